import { JsonLinesTelemetry } from "../functions/distributor/adapters/json-lines-telemetry";
import { loadSettings } from "../functions/distributor/settings";
import { createDistributor } from "../functions/distributor/wiring";
import { settingsOrUsage } from "./context";
import { CliError, type CliIo } from "./io";

/** The distributor with a durable ledger: parked state exists only there. */
export function parkingDistributor(io: CliIo, verbose = false) {
  const settings = settingsOrUsage(() => loadSettings(io.env));
  if (!settings.DELIVERY_LEDGER_TABLE)
    throw new CliError(
      "parked deliveries live in the delivery ledger: set DELIVERY_LEDGER_TABLE (regional stack output delivery_ledger_table)",
      2,
    );
  const built = createDistributor(settings, new JsonLinesTelemetry(io.stderr, verbose ? "debug" : "warn"));
  const { recovery, parking } = built;
  if (!recovery || !parking) throw new CliError("parking needs DELIVERY_LEDGER_TABLE", 2);
  return { ...built, recovery, parking, settings };
}
