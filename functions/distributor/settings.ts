import * as z from "zod";
import { DISTRIBUTOR_SERVICE, ENV, LOG_LEVELS, METRICS_NAMESPACE } from "../shared/contract";
import { RetentionDaysSchema, TenantIdSchema } from "../shared/delivery-config";
import { loadSettingsWith, setting } from "../shared/settings";
import { DEFAULT_OBJECT_LIMITS } from "./reading/decompress";
import { parseTenantMetrics } from "./reporting/tenant-metering";

const { int, name } = setting;

/**
 * Environment of the distributor (Lambda, worker and CLI alike). Endpoints come from the SDK's
 * own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, so the emulator needs no code path of its own.
 */
export const DistributorSettingsSchema = z.object({
  [ENV.region]: setting.region,
  [ENV.configTable]: name,
  /** The tenant registry (pk tenant_id): which accounts and clusters each tenant's logs may use. */
  [ENV.registryTable]: name,
  [ENV.centralRoleArn]: setting.roleArn,
  /**
   * The staging buckets notifications may name (comma-separated); an object in any other bucket
   * is refused permanently. The stacks set it; unset, any bucket the distributor can read is used.
   */
  [ENV.stagingBuckets]: z
    .string()
    .optional()
    .transform((v) =>
      v
        ?.split(",")
        .map((b) => b.trim())
        .filter((b) => b !== ""),
    ),
  /** DynamoDB table (pk: string, TTL attribute `ttl`) of claims and checkpoints per (object, destination). */
  [ENV.ledgerTable]: name.optional(),
  [ENV.ledgerTtlDays]: int(1, 365, 15),
  /** Lease of a delivery claim; a crashed owner's claim is taken over this long after its last renewal. */
  [ENV.claimLeaseSeconds]: int(5, 900, 60),
  /** Time one message may take in the worker and the CLI (Lambda uses its remaining time). */
  [ENV.messageBudgetSeconds]: int(10, 43_200, 300),
  [ENV.configCacheTtlSeconds]: int(0, 3600, 60),
  /** Attempts per call for transient errors other than throttling/5xx (those are retried by time). */
  [ENV.retryMaxAttempts]: int(1, 10, 5),
  [ENV.retryBaseDelayMs]: int(1, 60_000, 100),
  [ENV.retryMaxDelayMs]: int(1, 300_000, 5_000),
  /** Retention of the log groups the distributor creates, unless a config says `retention_days`. */
  [ENV.logGroupRetentionDays]: z.coerce.number().default(30).pipe(RetentionDaysSchema),
  /**
   * What one staged object may inflate to (bytes), and its compression ratio (checked after 16 MiB
   * of output): past either, the object is refused after the events before the cap (a gzip bomb,
   * a runaway object). Defaults: reading/decompress.ts DEFAULT_OBJECT_LIMITS.
   */
  [ENV.maxObjectBytes]: int(1024 * 1024, 64 * 1024 ** 3, DEFAULT_OBJECT_LIMITS.maxObjectBytes),
  [ENV.maxCompressionRatio]: int(10, 2000, DEFAULT_OBJECT_LIMITS.maxCompressionRatio),
  /** Largest CloudWatch event incl. 26 bytes overhead; larger messages are split. */
  [ENV.maxEventBytes]: int(1024, 1_048_576, 262_144),
  /**
   * SNS topic told about parked destinations (one notice per state change), with message
   * attributes tenant_id, destination_type and state. Unset: the notices are log lines only.
   */
  [ENV.alarmTopicArn]: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, "must be an SNS topic ARN")
    .optional(),
  /**
   * Which tenants get their own CloudWatch metrics: `none` (default: at thousands of tenants they
   * cost more than the pipeline), `top:N` (this process's N busiest) or `all`. See tenant-metering.ts.
   */
  [ENV.tenantMetrics]: z
    .string()
    .default("none")
    .transform((v, ctx) => {
      const parsed = parseTenantMetrics(v.trim());
      if (!parsed) ctx.addIssue({ code: "custom", message: "must be none, all or top:N (N 1-9999)" });
      return parsed ?? { mode: "none" as const };
    }),
  /** Tenants metered in every mode (comma-separated): those with a freshness alarm. */
  [ENV.meteredTenants]: z
    .string()
    .default("")
    .transform(
      (v) =>
        new Set(
          v
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean),
        ),
    ),
  /**
   * Deliveries one process runs at once: in Lambda, of an invocation's batch (the others wait their
   * turn; unset: all of it); in the queue worker, its slots (unset: DEFAULT_CONCURRENCY; --concurrency
   * overrides). The stacks set it where objects are Parquet (parallelParquetDeliveries).
   */
  [ENV.maxParallelDeliveries]: z.coerce.number().int().min(1).max(10_000).optional(),
  /**
   * The delivery queue's redrive maxReceiveCount: the worker defers a message (noisy-neighbour
   * isolation) only while that leaves it 3 receives before the DLQ.
   */
  [ENV.queueMaxReceiveCount]: int(1, 1000, 5),
  [ENV.metricsNamespace]: z.string().min(1).max(255).default(METRICS_NAMESPACE),
  [ENV.serviceName]: z.string().min(1).default(DISTRIBUTOR_SERVICE),
  /** The tenant whose deliveries carry the clusters' heartbeats: its CloudWatch deliveries keep each cluster's pulse. */
  [ENV.heartbeatTenant]: TenantIdSchema.default("logrelay-heartbeat"),
  /** Least level of the log lines written (Powertools reads it too). */
  [ENV.logLevel]: z.enum(LOG_LEVELS).default("INFO"),
});

export type DistributorSettings = z.infer<typeof DistributorSettingsSchema>;

/** Reads and validates settings; throws one SettingsError naming every bad variable. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): DistributorSettings {
  return loadSettingsWith(DistributorSettingsSchema, "distributor", env);
}
