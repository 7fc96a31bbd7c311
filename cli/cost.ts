import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** A dated list-price table (cli/prices/<region>.json): every price names its source. */
export const PriceTableSchema = z.object({
  region: z.string(),
  as_of: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  note: z.string(),
  prices: z.record(z.string(), z.object({ usd: z.number().nonnegative(), source: z.string().url() })),
});
export type PriceTable = z.infer<typeof PriceTableSchema>;

export function loadPrices(region: string): PriceTable {
  const path = join(__dirname, "prices", `${region}.json`);
  return PriceTableSchema.parse(JSON.parse(readFileSync(path, "utf8")));
}

export interface CostInputs {
  /** Uncompressed log bytes per day, in GB. */
  readonly gbPerDay: number;
  readonly tenants: number;
  /** Destinations per tenant (CloudWatch, S3). @default 1 */
  readonly destinationsPerTenant: number;
  /** Average event size in bytes (Firehose bills each record in 5 KB steps). @default 400 */
  readonly avgEventBytes: number;
  /** Uncompressed bytes per staged object (the collector's batch). @default 10 MiB */
  readonly objectMb: number;
  /** Days the staging bucket keeps objects. */
  readonly stagingDays: number;
  /** Days customers' log groups keep events (for the direct-to-CloudWatch comparison). */
  readonly retentionDays: number;
  /** Per-tenant custom metric names per destination (EventsDelivered ... DeliveryLatency). @default 5 */
  readonly metricsPerDestination: number;
  /** Tenants with their own metrics (the environment's tenant_metrics setting, see meteredTenantCount). */
  readonly meteredTenants: number;
  /** Clusters sending heartbeats (0: heartbeats off). @default 0 */
  readonly clusters?: number;
  /** Seconds between two heartbeats of a cluster (one staged object each). @default 60 */
  readonly heartbeatIntervalSeconds?: number;
}

/**
 * What one heartbeat object costs the pipeline beyond its PUT, notification and SQS requests:
 * the claim and completion in the ledger, the pulse's read and conditional write, about 50 ms of
 * a 1 GB function, and 2 metrics and 2 alarms per cluster (plus one composite per region).
 */
const HEARTBEAT_LEDGER_WRITES = 3;
const HEARTBEAT_LEDGER_READS = 1;
const HEARTBEAT_GB_SECONDS = 0.05;
const HEARTBEAT_LINE_BYTES = 200;
const HEARTBEAT_METRICS = 2;
const HEARTBEAT_ALARMS = 2;

/** The heartbeats' monthly cost: one small object per cluster per interval through the whole path. */
export function heartbeatCost(
  clusters: number,
  intervalSeconds: number,
  p: (name: string) => number,
): number {
  if (clusters === 0) return 0;
  const objects = (clusters * DAYS * 86_400) / intervalSeconds;
  return (
    (objects * (p("s3_put_per_1000") + p("s3_get_per_1000"))) / 1000 +
    (objects * (p("sns_publish_per_million") + 3 * p("sqs_requests_per_million"))) / 1e6 +
    (objects *
      (HEARTBEAT_LEDGER_WRITES * p("dynamodb_write_per_million") +
        HEARTBEAT_LEDGER_READS * p("dynamodb_read_per_million"))) /
      1e6 +
    objects * HEARTBEAT_GB_SECONDS * p("lambda_gb_second") +
    ((objects * HEARTBEAT_LINE_BYTES) / 1024 ** 3) * p("cloudwatch_logs_ingest_gb") +
    clusters *
      (HEARTBEAT_METRICS * p("cloudwatch_custom_metric_month") +
        HEARTBEAT_ALARMS * p("cloudwatch_alarm_month")) +
    p("cloudwatch_composite_alarm_month")
  );
}

/** Contributor Insights rules the regional stack creates (tenants by events, bytes, failures). */
const INSIGHT_RULES = 3;
/** Object log lines each rule matches: the events and bytes rules match every delivered object. */
const INSIGHT_MATCHES_PER_OBJECT = 2;

/** How many tenants get their own metrics: all, the top N plus those listed, or only those listed. */
export function meteredTenantCount(
  setting: { mode: "none" } | { mode: "all" } | { mode: "top"; top: number },
  tenants: number,
  listed: number,
): number {
  if (setting.mode === "all") return tenants;
  return Math.min(tenants, listed + (setting.mode === "top" ? setting.top : 0));
}

/**
 * Assumptions, measured on this project where possible: gzip keeps 12.6% of the bytes (the
 * bench's 110 MB reference object is 13.9 MB gzipped); the distributor processes 50 MB of events
 * per second of a 1 GB function (0.58 vCPU; the bench's path reads 205-275 MB/s on two cores; calls
 * and waits take the rest);
 * a ledger write per destination for the claim and the completion plus one per MiB (checkpoints);
 * 3 SQS requests per object (delivery by SNS, receive, delete); one log line of about 1 KB per
 * object; Firehose partitions flush every 15 minutes per tenant.
 */
const GZIP_RATIO = 0.126;
const DISTRIBUTOR_MB_PER_S = 50;
const LOG_LINE_KB = 1;
const DAYS = 30;

export type Mode = "direct_to_s3" | "firehose_json" | "firehose_parquet" | "direct_to_cloudwatch";
export const MODES: readonly Mode[] = [
  "direct_to_s3",
  "firehose_json",
  "firehose_parquet",
  "direct_to_cloudwatch",
];

export interface CostLine {
  readonly component: string;
  /** USD per month, by mode (absent: not part of that mode). */
  readonly usd: Partial<Record<Mode, number>>;
}

/** Monthly cost per component and mode, from the price table: the platform's side only. */
export function estimate(
  i: CostInputs,
  table: PriceTable,
): { lines: CostLine[]; totals: Record<Mode, number> } {
  const p = (name: string) => {
    const price = table.prices[name];
    if (!price) throw new Error(`price table ${table.region} (${table.as_of}) has no ${name}`);
    return price.usd;
  };
  const gbMonth = i.gbPerDay * DAYS;
  const objects = (gbMonth * 1024) / i.objectMb;
  const events = (gbMonth * 1024 ** 3) / i.avgEventBytes;
  // Firehose: one object per tenant partition per 15-minute flush (at least one per 128 MB).
  const firehoseObjects = Math.max((gbMonth * 1024) / 128, i.tenants * 4 * 24 * DAYS);
  const billedFirehoseGb = (events * Math.ceil(i.avgEventBytes / 5120) * 5120) / 1024 ** 3;

  const distribute = (objs: number): Partial<Record<string, number>> => ({
    "SNS notifications": (objs * p("sns_publish_per_million")) / 1e6,
    "SQS requests": (objs * 3 * p("sqs_requests_per_million")) / 1e6,
    "S3 reads by the distributor": (objs * p("s3_get_per_1000")) / 1000,
    "Lambda (distributor)":
      ((gbMonth * 1024) / DISTRIBUTOR_MB_PER_S) * p("lambda_gb_second") +
      ((objs / 10) * p("lambda_requests_per_million")) / 1e6,
    "DynamoDB ledger writes":
      ((objs * i.destinationsPerTenant * 2 + gbMonth * 1024 * i.destinationsPerTenant) *
        p("dynamodb_write_per_million")) /
      1e6,
    "Distributor logs": ((objs * LOG_LINE_KB) / 1024 ** 2) * p("cloudwatch_logs_ingest_gb"),
    "Per-tenant metrics":
      i.meteredTenants *
      i.destinationsPerTenant *
      i.metricsPerDestination *
      p("cloudwatch_custom_metric_month"),
    "Delivery metrics per destination type":
      i.destinationsPerTenant * i.metricsPerDestination * p("cloudwatch_custom_metric_month"),
    "Contributor Insights rules (tenants ranked from logs)":
      INSIGHT_RULES * p("cloudwatch_contributor_insights_rule_month") +
      ((objs * INSIGHT_MATCHES_PER_OBJECT) / 1e6) * p("cloudwatch_contributor_insights_events_per_million"),
  });
  const staging = gbMonth * GZIP_RATIO * Math.min(1, i.stagingDays / DAYS) * p("s3_storage_gb_month");
  const direct: Record<string, number | undefined> = {
    "Collector PUTs to staging": (objects * p("s3_put_per_1000")) / 1000,
    "Staging storage": staging,
    ...distribute(objects),
  };
  const firehose: Record<string, number | undefined> = {
    "Firehose ingestion (5 KB steps)": billedFirehoseGb * p("firehose_ingest_gb"),
    "Firehose dynamic partitioning":
      gbMonth * p("firehose_dynamic_partitioning_gb") +
      (firehoseObjects * p("firehose_dynamic_partitioning_per_1000_objects")) / 1000,
    "Staging storage": staging,
    ...distribute(firehoseObjects),
  };
  const heartbeats = i.clusters ? heartbeatCost(i.clusters, i.heartbeatIntervalSeconds ?? 60, p) : undefined;
  if (heartbeats !== undefined) {
    const line = `Cluster heartbeats (${i.clusters}, one object every ${i.heartbeatIntervalSeconds ?? 60} s)`;
    direct[line] = heartbeats;
    // With Firehose ingestion the heartbeats still go straight to the staging bucket.
    firehose[line] = heartbeats;
  }
  const parquet = {
    ...firehose,
    "Firehose Parquet conversion": gbMonth * p("firehose_format_conversion_gb"),
  };
  const cloudwatch: Record<string, number | undefined> = {
    "CloudWatch Logs ingestion": gbMonth * p("cloudwatch_logs_ingest_gb"),
    "CloudWatch Logs storage":
      gbMonth * GZIP_RATIO * (i.retentionDays / DAYS) * p("cloudwatch_logs_storage_gb_month"),
  };
  const byMode: Record<Mode, Record<string, number | undefined>> = {
    direct_to_s3: direct,
    firehose_json: firehose,
    firehose_parquet: parquet,
    direct_to_cloudwatch: cloudwatch,
  };
  const components = [...new Set(MODES.flatMap((m) => Object.keys(byMode[m])))];
  const lines = components.map((component) => ({
    component,
    usd: Object.fromEntries(
      MODES.flatMap((m) =>
        byMode[m][component] === undefined ? [] : [[m, roundCents(byMode[m][component]!)]],
      ),
    ) as Partial<Record<Mode, number>>,
  }));
  const totals = Object.fromEntries(
    MODES.map((m) => [m, roundCents(Object.values(byMode[m]).reduce<number>((s, v) => s + (v ?? 0), 0))]),
  ) as Record<Mode, number>;
  return { lines, totals };
}

/** What the customer pays in its own account for what logrelay delivers, per destination type. */
export interface DestinationCost {
  readonly type: "cloudwatch" | "s3" | "firehose";
  /** USD per month for the whole volume, were every tenant to use this destination type. */
  readonly usd: number;
  readonly basis: string;
}

/**
 * The customer's side of each destination type for the volume (billed in the customers' accounts,
 * not the platform's): CloudWatch Logs ingestion and a month of storage; S3 PUTs (one object per
 * staged object, or per part of a rewritten one) and a month of gzipped storage; Firehose Direct
 * PUT ingestion, each event one record billed in 5 KB steps (what the stream then delivers to
 * Splunk, Datadog or an HTTP endpoint is the customer's own).
 */
export function destinationCosts(i: CostInputs, table: PriceTable): DestinationCost[] {
  const p = (name: string) => table.prices[name]!.usd;
  const gbMonth = i.gbPerDay * DAYS;
  const objects = (gbMonth * 1024) / i.objectMb;
  const events = (gbMonth * 1024 ** 3) / i.avgEventBytes;
  const stepsGb = (events * Math.ceil(i.avgEventBytes / 5120) * 5120) / 1024 ** 3;
  return [
    {
      type: "cloudwatch",
      usd: roundCents(
        gbMonth * p("cloudwatch_logs_ingest_gb") +
          gbMonth * GZIP_RATIO * p("cloudwatch_logs_storage_gb_month"),
      ),
      basis: "ingestion, and a month of storage",
    },
    {
      type: "s3",
      usd: roundCents(
        (objects * p("s3_put_per_1000")) / 1000 + gbMonth * GZIP_RATIO * p("s3_storage_gb_month"),
      ),
      basis: "one PUT per object, and a month of gzipped storage",
    },
    {
      type: "firehose",
      usd: roundCents(stepsGb * p("firehose_ingest_gb")),
      basis: `ingestion: ${Math.round(events).toLocaleString("en-US")} records a month, each billed in 5 KB steps`,
    },
  ];
}

/** USD rounded to cents: every figure `logrelay cost` prints. */
export const roundCents = (usd: number) => Math.round(usd * 100) / 100;

/**
 * Each tenant's share of the delivered bytes: its own BytesDelivered over the total (the series
 * without the tenant). Tenants without their own metrics are one remainder, `(other tenants)`.
 */
export function tenantShares(
  bytesByTenant: ReadonlyMap<string, number>,
  totalBytes: number,
): { tenantId: string; bytes: number; share: number }[] {
  const metered = [...bytesByTenant.values()].reduce((a, b) => a + b, 0);
  const total = Math.max(totalBytes, metered);
  if (total === 0) return [];
  const rows = [...bytesByTenant]
    .map(([tenantId, bytes]) => ({ tenantId, bytes, share: bytes / total }))
    .sort((a, b) => b.bytes - a.bytes || a.tenantId.localeCompare(b.tenantId));
  const rest = total - metered;
  return rest > 0 ? [...rows, { tenantId: "(other tenants)", bytes: rest, share: rest / total }] : rows;
}
