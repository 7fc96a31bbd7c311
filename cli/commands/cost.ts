import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { Command } from "commander";
import {
  formatTenantMetrics,
  parseTenantMetrics,
} from "../../functions/distributor/reporting/tenant-metering";
import { DISTRIBUTOR_SERVICE } from "../../functions/shared/contract";
import { alwaysMeteredTenants } from "../../stacks/config";
import {
  awsRegion,
  environmentOption,
  numberOption,
  type OutputFormat,
  outputOption,
  structured,
} from "../context";
import {
  type CostInputs,
  destinationCosts,
  estimate,
  loadPrices,
  MODES,
  meteredTenantCount,
  roundCents,
  tenantShares,
} from "../cost";
import { CliError, type CliIo, table } from "../io";
import { metricTotal, tenantMetricValues } from "../status";

interface CostOptions {
  environment: string;
  gbPerDay: string;
  tenants?: string;
  clusters?: string;
  destinationsPerTenant: string;
  avgEventBytes: string;
  tenantMetrics?: string;
  sharesFromMetrics?: string;
  output: OutputFormat;
}

/** Delivered bytes per tenant over the last `days`, from the distributor's metrics in CloudWatch. */
async function sharesFromMetrics(io: CliIo, days: number) {
  const cloudwatch = new CloudWatchClient({ region: await awsRegion(io) });
  const now = new Date();
  const seconds = days * 86_400;
  const [rows, total] = await Promise.all([
    tenantMetricValues(cloudwatch, now, seconds, [{ metric: "BytesDelivered", stat: "Sum" }]),
    metricTotal(cloudwatch, now, seconds, "BytesDelivered", DISTRIBUTOR_SERVICE),
  ]);
  const bytes = new Map<string, number>();
  for (const r of rows) bytes.set(r.tenantId, (bytes.get(r.tenantId) ?? 0) + (r.values[0] ?? 0));
  return tenantShares(bytes, total);
}

export function registerCost(program: Command, io: CliIo): void {
  program
    .command("cost")
    .description(
      "monthly cost per component: direct-to-S3, Firehose (JSON, Parquet) and direct-to-CloudWatch",
    )
    .requiredOption(
      "--environment <name>",
      "environments/<name>.json (staging expiry, retention, region, customers, tenant_metrics)",
    )
    .requiredOption("--gb-per-day <gb>", "uncompressed log volume per day")
    .option("--tenants <n>", "tenants (default: the environment's customers, at least 1)")
    .option(
      "--clusters <n>",
      "clusters sending heartbeats (default: the environment's, 0 with heartbeat.enabled false)",
    )
    .option("--destinations-per-tenant <n>", "CloudWatch and/or S3 per tenant", "1")
    .option("--avg-event-bytes <n>", "average event size (Firehose bills records in 5 KB steps)", "400")
    .option(
      "--tenant-metrics <setting>",
      "what if per-tenant metrics were none, top:N or all (default: the environment's)",
    )
    .option(
      "--shares-from-metrics <days>",
      "split the cost by each tenant's delivered bytes over the last days (reads CloudWatch)",
    )
    .addOption(outputOption())
    .addHelpText(
      "after",
      "\nThe platform's side, from the dated list-price table cli/prices/<region>.json (each price names its source).\n" +
        "direct_to_cloudwatch is the baseline without a pipeline: collectors writing into each customer's CloudWatch.\n" +
        "Delivering into a customer's CloudWatch costs them its ingestion ($0.50/GB) in every mode.\n" +
        "Per-tenant metrics cost 10 custom metrics per tenant: the environment's tenant_metrics (none, top, all) decides\n" +
        "how many; the Contributor Insights rules rank every tenant from the distributor's logs for a flat fee.\n" +
        "Per-tenant shares: an equal split, or with --shares-from-metrics each metered tenant's delivered bytes; tenants\n" +
        "without their own metrics are one remainder (rank them with the rule <prefix>-tenants-by-bytes).\n" +
        "Examples: logrelay cost --environment prod --gb-per-day 34 --tenants 1000 -o json\n" +
        "          logrelay cost --environment prod --gb-per-day 34 --tenant-metrics all --shares-from-metrics 7",
    )
    .action(async (o: CostOptions) => {
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
      const setting =
        o.tenantMetrics === undefined ? env.tenant_metrics : parseTenantMetrics(o.tenantMetrics);
      if (!setting)
        throw new CliError(
          `--tenant-metrics ${JSON.stringify(o.tenantMetrics)} must be none, top:N or all`,
          2,
        );
      const meteredTenants = meteredTenantCount(setting, tenants, alwaysMeteredTenants(env).length);
      const days =
        o.sharesFromMetrics === undefined
          ? undefined
          : numberOption(o.sharesFromMetrics, "--shares-from-metrics", {
              min: 1,
              max: 455,
              says: "1-455 days",
            });
      const inputs: CostInputs = {
        gbPerDay: numberOption(o.gbPerDay, "--gb-per-day", { min: 0.001, max: 1_000_000, integer: false }),
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
        meteredTenants,
        clusters: !env.heartbeat.enabled
          ? 0
          : o.clusters === undefined
            ? env.clusters.length
            : numberOption(o.clusters, "--clusters", { min: 0, max: 100_000 }),
        heartbeatIntervalSeconds: env.heartbeat.interval_seconds,
      };
      const { lines, totals } = estimate(inputs, prices);
      const customerSide = destinationCosts(inputs, prices);
      const shares =
        days === undefined
          ? undefined
          : (await sharesFromMetrics(io, days)).map((s) => ({
              ...s,
              usd: Object.fromEntries(MODES.map((m) => [m, roundCents(totals[m] * s.share)])),
            }));
      const perTenant = Object.fromEntries(MODES.map((m) => [m, roundCents(totals[m] / tenants)]));
      const tenantMetrics = { ...setting, metered_tenants: meteredTenants };
      if (o.output !== "table") {
        io.stdout.write(
          structured(o.output, {
            region,
            pricesAsOf: prices.as_of,
            tenants,
            tenantMetrics,
            lines,
            totals,
            perTenant,
            customerSide,
            ...(shares && { sharesFromMetricsDays: days, shares }),
          }),
        );
        return;
      }
      const usd = (v?: number) => (v === undefined ? "-" : `$${v.toFixed(2)}`);
      let text = `${table(
        ["COMPONENT (USD/MONTH)", ...MODES],
        [
          ...lines.map((l) => [l.component, ...MODES.map((m) => usd(l.usd[m]))]),
          ["TOTAL", ...MODES.map((m) => usd(totals[m]))],
          ["PER TENANT (EQUAL SPLIT)", ...MODES.map((m) => usd(perTenant[m]))],
        ],
      )}per-tenant metrics: ${formatTenantMetrics(setting)} (${meteredTenants} of ${tenants} tenants)\n`;
      if (shares) {
        text += shares.length
          ? `\nshares of delivered bytes, last ${days} day(s):\n${table(
              ["TENANT", "SHARE", ...MODES],
              shares.map((s) => [
                s.tenantId,
                `${(s.share * 100).toFixed(1)}%`,
                ...MODES.map((m) => usd(s.usd[m as keyof typeof s.usd])),
              ]),
            )}`
          : `\nno BytesDelivered metrics in the last ${days} day(s): shares are the equal split above\n`;
      }
      text += `\nthe customers' side, billed in their accounts (USD/month for this volume):\n${table(
        ["DESTINATION", "USD/MONTH", "FOR"],
        customerSide.map((c) => [c.type, usd(c.usd), c.basis]),
      )}`;
      io.stdout.write(
        `${text}prices: ${region} list prices as of ${prices.as_of} (cli/prices/${region}.json)\n`,
      );
    });
}
