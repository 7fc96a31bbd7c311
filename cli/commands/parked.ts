import { Command, Option } from "commander";
import type { ParkedSummary } from "../../functions/distributor/parking/parking";
import type { DestinationRecovery, RecoveryOptions } from "../../functions/distributor/parking/recovery";
import { DELIVERY_TYPES, type DeliveryType } from "../../functions/shared/delivery-config";
import { numberOption, type OutputFormat, outputOption, structured, tenantOption } from "../context";
import { CliError, type CliIo, EXIT, table } from "../io";
import { parkingDistributor } from "../parked";

const SETTINGS_HELP =
  "\nSettings: the same environment as `logrelay deliver` (TENANT_CONFIG_TABLE, TENANT_REGISTRY_TABLE,\n" +
  "CENTRAL_LOG_DISTRIBUTION_ROLE_ARN, AWS_REGION and DELIVERY_LEDGER_TABLE, where parked deliveries live).";

const bytes = (n: number) =>
  n >= 1_048_576
    ? `${(n / 1_048_576).toFixed(1)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${n} B`;

function summaryTable(rows: ParkedSummary[]): string {
  if (rows.length === 0) return "nothing parked\n";
  return table(
    ["TENANT", "TYPE", "TARGET", "BREAKER", "SINCE", "OBJECTS", "BYTES", "OLDEST EXPIRES", "LOST", "REASON"],
    rows.map((r) => [
      r.tenantId,
      r.type,
      r.target,
      r.breaker,
      r.since ?? "-",
      r.objects,
      bytes(r.bytes),
      r.oldestExpires ?? (r.objects > 0 ? "unknown" : "-"),
      r.lostRange ? `${r.lost} (${r.lostRange.from} .. ${r.lostRange.to})` : r.lost,
      r.reason,
    ]),
  );
}

function recoveryTable(rows: DestinationRecovery[]): string {
  if (rows.length === 0) return "nothing parked\n";
  return table(
    ["TENANT", "TYPE", "TARGET", "DELIVERED", "LOST", "STILL PARKED", "BREAKER", "NOTE"],
    rows.map((r) => [
      r.tenantId,
      r.type,
      r.target,
      r.delivered,
      r.lostRange ? `${r.lost} (${r.lostRange.from} .. ${r.lostRange.to})` : r.lost,
      r.stillParked,
      r.closed ? "closed now" : r.stillParked === 0 ? "closed" : r.stateBefore,
      r.stoppedBecause ?? (r.probe ? `probe: ${r.probe.detail}` : ""),
    ]),
  );
}

const snake = (rows: DestinationRecovery[]) =>
  rows.map((r) => ({
    tenant_id: r.tenantId,
    type: r.type,
    target: r.target,
    state_before: r.stateBefore,
    delivered: r.delivered,
    lost: r.lost,
    ...(r.lostRange && { lost_range: r.lostRange }),
    still_parked: r.stillParked,
    closed: r.closed,
    ...(r.probe && { probe: r.probe }),
    ...(r.stoppedBecause && { stopped_because: r.stoppedBecause }),
  }));

export function registerParked(program: Command, io: CliIo): void {
  const parked = new Command("parked")
    .description(
      "deliveries set aside because a destination refuses on the customer's side (role, policy, KMS key, bucket)",
    )
    .addHelpText(
      "after",
      "\nA parked delivery waits in the delivery ledger; the regional stack's schedule probes its destination every\n" +
        "few minutes and delivers what waits, oldest first, once it works. Objects wait as long as the staging bucket\n" +
        `keeps them; after that they are recorded as lost and reported.${SETTINGS_HELP}`,
    );
  program.addCommand(parked);

  parked
    .command("list")
    .description(
      "show parked destinations: reason, since when, objects and bytes waiting, when the oldest expires",
    )
    .option("--tenant <id>", "only this tenant")
    .addOption(outputOption())
    .addHelpText("after", `\nExample: logrelay parked list --tenant acme -o json${SETTINGS_HELP}`)
    .action(async (o: { tenant?: string; output: OutputFormat }) => {
      const tenantId = o.tenant === undefined ? undefined : tenantOption(o.tenant);
      const { parking } = parkingDistributor(io);
      const rows = await parking.summary(tenantId === undefined ? {} : { tenantId });
      io.stdout.write(
        o.output !== "table"
          ? structured(
              o.output,
              rows.map((r) => ({
                tenant_id: r.tenantId,
                type: r.type,
                target: r.target,
                breaker: r.breaker,
                reason: r.reason,
                since: r.since ?? null,
                objects: r.objects,
                bytes: r.bytes,
                oldest: r.oldest ?? null,
                oldest_expires: r.oldestExpires ?? null,
                lost: r.lost,
                lost_range: r.lostRange ?? null,
                probe: r.probe ?? null,
              })),
            )
          : summaryTable(rows),
      );
    });

  const run = async (
    options: Omit<RecoveryOptions, "deadline">,
    budget: string,
    output: OutputFormat,
    verbose?: boolean,
  ) => {
    const seconds = numberOption(budget, "--budget-seconds", { min: 30, max: 43_200 });
    const { engine, recovery } = parkingDistributor(io, verbose);
    const rows = await recovery.run({ ...options, deadline: engine.newDeadline(seconds * 1000) });
    io.stdout.write(output === "table" ? recoveryTable(rows) : structured(output, snake(rows)));
    const waiting = rows.reduce((n, r) => n + r.stillParked, 0);
    if (waiting > 0)
      throw new CliError(`${waiting} delivery(ies) still parked; see the NOTE column`, EXIT.parked);
  };

  parked
    .command("retry")
    .description(
      "deliver a tenant's parked objects now, oldest first, exactly once (after the customer fixed their side)",
    )
    .requiredOption("--tenant <id>", "the tenant whose destinations to retry")
    .addOption(new Option("--type <type>", "only this destination type").choices([...DELIVERY_TYPES]))
    .option("--budget-seconds <n>", "stop starting new deliveries after this long", "900")
    .addOption(outputOption())
    .option("--verbose", "also print the delivery log lines on stderr")
    .addHelpText(
      "after",
      "\nThe first delivery is the test: if the destination still refuses, it is parked again and the run stops.\n" +
        `Exit codes: 0 nothing left parked, 1 a failure, 2 bad usage or settings, 3 deliveries still parked.\n` +
        `Example: logrelay parked retry --tenant acme --type cloudwatch${SETTINGS_HELP}`,
    )
    .action(
      async (o: {
        tenant: string;
        type?: DeliveryType;
        budgetSeconds: string;
        output: OutputFormat;
        verbose?: boolean;
      }) => {
        const tenantId = tenantOption(o.tenant);
        await run(
          { tenantId, ...(o.type && { type: o.type }), probe: false },
          o.budgetSeconds,
          o.output,
          o.verbose,
        );
      },
    );

  parked
    .command("recover")
    .description(
      "what the schedule runs: probe every parked destination, deliver what waits on those that work again",
    )
    .option("--budget-seconds <n>", "stop starting new deliveries after this long", "900")
    .addOption(outputOption())
    .option("--verbose", "also print the delivery log lines on stderr")
    .addHelpText(
      "after",
      `\nExit codes: 0 nothing left parked, 1 a failure, 2 bad usage or settings, 3 deliveries still parked.\nExample: logrelay parked recover -o json${SETTINGS_HELP}`,
    )
    .action(async (o: { budgetSeconds: string; output: OutputFormat; verbose?: boolean }) => {
      await run({ probe: true }, o.budgetSeconds, o.output, o.verbose);
    });
}
