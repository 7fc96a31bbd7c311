import type { Command } from "commander";
import { environmentOption, numberOption, type OutputFormat, outputOption, structured } from "../context";
import { estimate, loadPrices, MODES } from "../cost";
import { CliError, type CliIo, table } from "../io";

export function registerCost(program: Command, io: CliIo): void {
  program
    .command("cost")
    .description(
      "monthly cost per component: direct-to-S3, Firehose (JSON, Parquet) and direct-to-CloudWatch",
    )
    .requiredOption(
      "--environment <name>",
      "environments/<name>.json (staging expiry, retention, region, customers)",
    )
    .requiredOption("--gb-per-day <gb>", "uncompressed log volume per day")
    .option("--tenants <n>", "tenants (default: the environment's customers, at least 1)")
    .option("--destinations-per-tenant <n>", "CloudWatch and/or S3 per tenant", "1")
    .option("--avg-event-bytes <n>", "average event size (Firehose bills records in 5 KB steps)", "400")
    .addOption(outputOption())
    .addHelpText(
      "after",
      "\nThe platform's side, from the dated list-price table cli/prices/<region>.json (each price names its source).\n" +
        "direct_to_cloudwatch is the baseline without a pipeline: collectors writing into each customer's CloudWatch.\n" +
        "Delivering into a customer's CloudWatch costs them its ingestion ($0.50/GB) in every mode. Per-tenant shares\n" +
        "are the total over the tenants (not yet weighted by each tenant's volume).\n" +
        "Example: logrelay cost --environment prod --gb-per-day 34 --tenants 1000 -o json",
    )
    .action(
      (o: {
        environment: string;
        gbPerDay: string;
        tenants?: string;
        destinationsPerTenant: string;
        avgEventBytes: string;
        output: OutputFormat;
      }) => {
        const env = environmentOption(o.environment);
        const region = env.regions[0]!;
        let prices: ReturnType<typeof loadPrices>;
        try {
          prices = loadPrices(region);
        } catch {
          throw new CliError(
            `no price table for ${region}: add cli/prices/${region}.json (us-east-1 is there)`,
            2,
          );
        }
        const tenants =
          o.tenants === undefined
            ? Math.max(1, env.customers.length)
            : numberOption(o.tenants, "--tenants", { min: 1, max: 1_000_000 });
        const { lines, totals } = estimate(
          {
            gbPerDay: numberOption(o.gbPerDay, "--gb-per-day", {
              min: 0.001,
              max: 1_000_000,
              integer: false,
            }),
            tenants,
            destinationsPerTenant: numberOption(o.destinationsPerTenant, "--destinations-per-tenant", {
              min: 1,
              max: 2,
            }),
            avgEventBytes: numberOption(o.avgEventBytes, "--avg-event-bytes", {
              min: 1,
              max: 1_048_576,
              integer: false,
            }),
            objectMb: 10,
            stagingDays: env.staging.expire_after_days ?? 30,
            retentionDays: env.customer_log_retention_days,
            metricsPerDestination: 5,
          },
          prices,
        );
        const perTenant = Object.fromEntries(
          MODES.map((m) => [m, Math.round((totals[m] / tenants) * 100) / 100]),
        );
        if (o.output !== "table") {
          io.stdout.write(
            structured(o.output, { region, pricesAsOf: prices.as_of, tenants, lines, totals, perTenant }),
          );
          return;
        }
        const usd = (v?: number) => (v === undefined ? "-" : `$${v.toFixed(2)}`);
        io.stdout.write(
          `${table(
            ["COMPONENT (USD/MONTH)", ...MODES],
            [
              ...lines.map((l) => [l.component, ...MODES.map((m) => usd(l.usd[m]))]),
              ["TOTAL", ...MODES.map((m) => usd(totals[m]))],
              ["PER TENANT", ...MODES.map((m) => usd(perTenant[m]))],
            ],
          )}prices: ${region} list prices as of ${prices.as_of} (cli/prices/${region}.json)\n`,
        );
      },
    );
}
