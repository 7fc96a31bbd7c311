import * as z from "zod";
import { DISTRIBUTOR_SERVICE, METRICS_NAMESPACE } from "../shared/contract";
import { RetentionDaysSchema } from "../shared/delivery-config";
import { loadSettingsWith, setting } from "../shared/settings";
import { parseTenantMetrics } from "./reporting/tenant-metering";

const { int, name } = setting;

/**
 * Environment of the distributor (Lambda, worker and CLI alike). Endpoints come from the SDK's
 * own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, so the emulator needs no code path of its own.
 */
export const DistributorSettingsSchema = z.object({
  AWS_REGION: setting.region,
  TENANT_CONFIG_TABLE: name,
  /** The tenant registry (pk tenant_id): which accounts and clusters each tenant's logs may use. */
  TENANT_REGISTRY_TABLE: name,
  CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: setting.roleArn,
  /**
   * The staging buckets notifications may name (comma-separated); an object in any other bucket
   * is refused permanently. The stacks set it; unset, any bucket the distributor can read is used.
   */
  STAGING_BUCKETS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ?.split(",")
        .map((b) => b.trim())
        .filter((b) => b !== ""),
    ),
  /** DynamoDB table (pk: string, TTL attribute `ttl`) of claims and checkpoints per (object, destination). */
  DELIVERY_LEDGER_TABLE: name.optional(),
  LEDGER_TTL_DAYS: int(1, 365, 15),
  /** Lease of a delivery claim; a crashed owner's claim is taken over this long after its last renewal. */
  CLAIM_LEASE_SECONDS: int(5, 900, 60),
  /** Time one message may take in the worker and the CLI (Lambda uses its remaining time). */
  MESSAGE_BUDGET_SECONDS: int(10, 43_200, 300),
  CONFIG_CACHE_TTL_SECONDS: int(0, 3600, 60),
  /** Attempts per call for transient errors other than throttling/5xx (those are retried by time). */
  RETRY_MAX_ATTEMPTS: int(1, 10, 5),
  RETRY_BASE_DELAY_MS: int(1, 60_000, 100),
  RETRY_MAX_DELAY_MS: int(1, 300_000, 5_000),
  /** Retention of the log groups the distributor creates, unless a config says `retention_days`. */
  LOG_GROUP_RETENTION_DAYS: z.coerce.number().default(30).pipe(RetentionDaysSchema),
  /** Largest CloudWatch event incl. 26 bytes overhead; larger messages are split. */
  MAX_EVENT_BYTES: int(1024, 1_048_576, 262_144),
  /**
   * SNS topic told about parked destinations (one notice per state change), with message
   * attributes tenant_id, destination_type and state. Unset: the notices are log lines only.
   */
  ALARM_TOPIC_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, "must be an SNS topic ARN")
    .optional(),
  /**
   * Which tenants get their own CloudWatch metrics: `none` (default: at thousands of tenants they
   * cost more than the pipeline), `top:N` (this process's N busiest) or `all`. See tenant-metering.ts.
   */
  TENANT_METRICS: z
    .string()
    .default("none")
    .transform((v, ctx) => {
      const parsed = parseTenantMetrics(v.trim());
      if (!parsed) ctx.addIssue({ code: "custom", message: "must be none, all or top:N (N 1-9999)" });
      return parsed ?? { mode: "none" as const };
    }),
  /** Tenants metered in every mode (comma-separated): those with a freshness alarm. */
  METERED_TENANTS: z
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
   * Deliveries one Lambda invocation runs at once (the others of its batch wait their turn);
   * unset: all of the batch. The stack sets it where objects are Parquet (parallelParquetDeliveries).
   */
  MAX_PARALLEL_DELIVERIES: z.coerce.number().int().min(1).max(10_000).optional(),
  METRICS_NAMESPACE: z.string().min(1).max(255).default(METRICS_NAMESPACE),
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default(DISTRIBUTOR_SERVICE),
});

export type DistributorSettings = z.infer<typeof DistributorSettingsSchema>;

/** Reads and validates settings; throws one SettingsError naming every bad variable. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): DistributorSettings {
  return loadSettingsWith(DistributorSettingsSchema, "distributor", env);
}
