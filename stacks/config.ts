import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import {
  AccountIdSchema,
  BucketPrefixSchema,
  DeliveryTypeSchema,
  ExternalIdSchema,
  RegionSchema,
  RetentionDaysSchema,
  TenantIdSchema,
} from "../functions/shared/delivery-config";
import {
  BUCKET_NAME_PATTERN,
  FIREHOSE_STREAM_ARN_PATTERN,
  KEY_SEGMENT_PATTERN,
  LOG_GROUP_NAME_PATTERN,
  ROLE_ARN_PATTERN,
} from "../functions/shared/patterns";
import { DLQ_RETENTION_SECONDS, QUEUE_RETENTION_SECONDS } from "./constructs/queue-with-dlq";
import { migrateClusterSettings } from "./migrations";

export { LOG_RETENTION_DAYS } from "../functions/shared/patterns";

const AccountId = AccountIdSchema;
const positive = (max: number) => z.number().int().min(1).max(max);

export const DistributorSizingSchema = z
  .object({
    memory_mb: z.number().int().min(128).max(10_240).default(1024),
    timeout_seconds: positive(900).default(300),
    /** Caps parallel deliveries (and so the load on customers' APIs); unset = account pool. */
    reserved_concurrency: z.number().int().min(1).max(1000).optional(),
    /**
     * SQS records per invocation. Measured with `npm run bench -- --e2e --lambda-batches` (30 ms per
     * AWS call, 200-event objects): billed time per 1,000 objects 193 s at 1, 17.7 s at 10, 8.1 s
     * at 25, 5.5 s at 50, 4.9 s at 100, where one invocation takes 467 ms and the instance is
     * CPU-bound. 50 takes most of the gain; larger batches only lengthen each invocation (and a
     * tenant may take a quarter of a batch).
     */
    batch_size: positive(10_000).default(50),
    /**
     * Seconds the event source mapping may wait to fill a batch (SQS requires at least 1 above 10
     * records). At most this much is added to a quiet tenant's delivery latency.
     */
    batching_window_seconds: z.number().int().min(0).max(300).default(5),
    log_level: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
    /** Minutes between probes of parked destinations (and delivery of what waits on those that work). */
    recover_parked_every_minutes: z.number().int().min(1).max(1440).default(5),
  })
  .strict()
  .refine((d) => d.batch_size <= 10 || d.batching_window_seconds >= 1, {
    message: "batch_size above 10 needs batching_window_seconds of at least 1 (an SQS event source rule)",
    path: ["batching_window_seconds"],
  });

export const QueueSettingsSchema = z
  .object({
    max_receive_count: positive(1000).default(5),
    /**
     * Roles allowed to send to the delivery queue besides the objects topic: the operators who run
     * `logrelay replay` and `logrelay dlq redrive`. Anyone else is denied. @default none
     */
    operator_roles: z.array(z.string().regex(ROLE_ARN_PATTERN, "must be a role ARN")).default([]),
    /** Alarm when the oldest message is older than this. */
    oldest_message_alarm_seconds: positive(14 * 86_400).default(900),
  })
  .strict();

export const StagingSettingsSchema = z
  .object({
    /** Staged objects are deleted after this many days (customers have their own copies by then). */
    expire_after_days: positive(3650).default(14),
    /** Move objects to S3 Intelligent-Tiering after N days; unset = stay in Standard. */
    intelligent_tiering_after_days: z.number().int().min(0).max(3650).optional(),
    /**
     * Versioning of the staging bucket. Off by default: every object Vector writes has a unique key
     * (time + UUID), is never overwritten, and expires; versions would only add cost.
     */
    versioning: z.boolean().default(false),
  })
  .strict();

/** The heartbeat's defaults: one line a minute; silent after three missed. */
export const HEARTBEAT_DEFAULTS = {
  intervalSeconds: 60,
  tenantId: "logrelay-heartbeat",
  namespace: "logrelay-heartbeat",
  image: "busybox:1.37.0",
  maxLagSeconds: 300,
} as const;

/**
 * A heartbeat in every cluster, delivered through the whole path as the logs of a tenant of the
 * platform's own (a log group in the platform account): what tells a dead collector, a broken role
 * or a stopped queue from a quiet tenant.
 */
export const HeartbeatSettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Seconds between two heartbeat lines; the collector ships them as often. */
    interval_seconds: z.number().int().min(10).max(3600).default(HEARTBEAT_DEFAULTS.intervalSeconds),
    /** The tenant the heartbeats are delivered as; reserved: no namespace may claim it. */
    tenant_id: TenantIdSchema.default(HEARTBEAT_DEFAULTS.tenantId),
    /** A cluster without a heartbeat for this long is stale (alarm, `logrelay status`). @default 3 intervals */
    stale_after_seconds: z.number().int().min(10).max(86_400).optional(),
    /** Alarm when a cluster's heartbeat takes longer than this from emitted to accepted. */
    max_lag_seconds: z.number().int().min(10).max(86_400).default(HEARTBEAT_DEFAULTS.maxLagSeconds),
    /** The heartbeat workload's namespace in each cluster (Pod Security `restricted`). */
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .max(63)
      .default(HEARTBEAT_DEFAULTS.namespace),
    /** An image with a POSIX shell, `date` and `sleep` (busybox). */
    image: z.string().min(1).default(HEARTBEAT_DEFAULTS.image),
  })
  .strict()
  .transform((h) => ({ ...h, stale_after_seconds: h.stale_after_seconds ?? 3 * h.interval_seconds }))
  .refine((h) => h.stale_after_seconds >= h.interval_seconds, {
    message:
      "stale_after_seconds must be at least interval_seconds: a cluster would be stale between two beats",
    path: ["stale_after_seconds"],
  });

export const ApiSettingsSchema = z
  .object({
    throttling_rate_limit: positive(10_000).default(20),
    throttling_burst_limit: positive(5_000).default(40),
  })
  .strict();

const Quantities = z
  .object({
    cpu: z.string().regex(/^\d+(\.\d+)?m?$/),
    memory: z.string().regex(/^\d+(Ki|Mi|Gi|Ti|K|M|G|T)?$/),
  })
  .strict();

/** The in-cluster distributor's default namespace (apart from the privileged collector's). */
export const DISTRIBUTOR_NAMESPACE = "logrelay-distributor";

/** The in-cluster distributor's service account (stacks/in-cluster-distributor.ts names its objects so). */
export const DISTRIBUTOR_SERVICE_ACCOUNT = "logrelay-distributor";

const ClusterObjectSchema = z
  .object({
    id: z
      .string()
      .regex(KEY_SEGMENT_PATTERN, "cluster id must be a valid key segment (letters, digits, . _ -)"),
    region: RegionSchema,
    /** OIDC issuer URL of the cluster's service-account tokens (https://...). */
    oidc_issuer_url: z.string().url().startsWith("https://"),
    /** Use an existing IAM OIDC provider instead of creating one. */
    oidc_provider_arn: z
      .string()
      .regex(/^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:oidc-provider\/.+$/, "must be an IAM OIDC provider ARN")
      .optional(),
    /**
     * Audience of the service-account tokens the collector presents to STS. EKS and the pod
     * identity webhook use sts.amazonaws.com; some ROSA setups use "openshift".
     */
    oidc_audience: z.string().min(1).default("sts.amazonaws.com"),
    openshift: z.boolean().default(false),
    /** kubeconfig context of the cluster. @default the cluster id */
    kubeconfig_context: z.string().optional(),
    /** kubeconfig file the kubernetes and helm providers read. */
    kubeconfig_path: z.string().min(1).default("~/.kube/config"),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .max(63)
      .default("logrelay"),
    service_account: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .max(253)
      .default("logrelay-collector"),
    /** Pinned version of the upstream Vector chart (https://helm.vector.dev). */
    chart_version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/)
      .default("0.57.0"),
    pod_label_selector: z.string().min(1).optional(),
    namespace_label_selector: z.string().min(1).optional(),
    tenant_label: z.string().min(1).optional(),
    priority_class: z.string().optional(),
    /** Create a PodMonitor for Vector's metrics (needs the Prometheus operator's CRDs). */
    pod_monitor: z.boolean().default(false),
    /**
     * Per-tenant rate limit at the collector, in events per minute per node (more are dropped and
     * counted); `overrides` set other limits for some tenants. @default chart (60,000)
     */
    tenant_rate_limit: z
      .object({
        events_per_minute: z.number().int().min(1).max(100_000_000).optional(),
        overrides: z.record(TenantIdSchema, z.number().int().min(1).max(100_000_000)).default({}),
      })
      .strict()
      .optional(),
    tolerations: z.array(z.record(z.string(), z.string())).optional(),
    resources: z.object({ requests: Quantities, limits: Quantities }).strict().optional(),
    /** Run the distributor's queue worker in this cluster (instead of or beside Lambda). */
    distributor: z
      .object({
        image: z.string().min(1),
        /**
         * Its own namespace, at Pod Security "restricted": never beside the root collector, whose
         * namespace must allow hostPath volumes. @default logrelay-distributor
         */
        namespace: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
          .max(63)
          .default(DISTRIBUTOR_NAMESPACE),
        replicas: z.number().int().min(0).max(100).default(1),
        /** Scale on queue depth with KEDA (must be installed in the cluster). */
        keda: z
          .object({
            min_replicas: z.number().int().min(0).default(0),
            max_replicas: z.number().int().min(1).default(10),
            messages_per_replica: z.number().int().min(1).default(20),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ClusterSchema = z.preprocess(migrateClusterSettings, ClusterObjectSchema);

export const CustomerAccountSchema = z
  .object({
    tenant_id: TenantIdSchema,
    account_id: AccountId,
    external_id: ExternalIdSchema,
    /**
     * The role may only write to log groups whose names start with this. @default
     * `/logrelay/<tenant_id>/`: per tenant, so tenants sharing an account cannot write each other's
     * log groups.
     */
    log_group_prefix: z.string().regex(LOG_GROUP_NAME_PATTERN).optional(),
    /** S3 delivery target; the role may only write under `<prefix><tenant_id>/`. */
    bucket: z
      .object({
        name: z.string().regex(BUCKET_NAME_PATTERN),
        prefix: BucketPrefixSchema.default("ROSA/cluster-logs/"),
        /** Create the bucket too (encrypted, private); otherwise it must exist. */
        create: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Firehose streams in that account the role may put records into (`firehose` destinations). */
    firehose_streams: z
      .array(
        z
          .string()
          .regex(
            FIREHOSE_STREAM_ARN_PATTERN,
            "must be a Firehose stream ARN, e.g. arn:aws:firehose:us-east-1:123456789012:deliverystream/<name>",
          ),
      )
      .max(10)
      .optional(),
    /** Role Terraform assumes to deploy into that account (e.g. OrganizationAccountAccessRole). */
    deploy_role_arn: z.string().startsWith("arn:").optional(),
  })
  .strict()
  .superRefine((c, ctx) =>
    (c.firehose_streams ?? []).forEach((arn, i) => {
      if (FIREHOSE_STREAM_ARN_PATTERN.exec(arn)?.[2] !== c.account_id)
        ctx.addIssue({
          code: "custom",
          message: `${arn} is not in account_id ${c.account_id}: the role writes only in its own account`,
          path: ["firehose_streams", i],
        });
    }),
  )
  .transform((c) => ({ ...c, log_group_prefix: c.log_group_prefix ?? defaultLogGroupPrefix(c.tenant_id) }));

/** Each tenant's own log-group prefix unless set: `/logrelay/<tenant>/`. */
export const defaultLogGroupPrefix = (tenantId: string) => `/logrelay/${tenantId}/`;

/**
 * One environment definition (environments/<name>.json): where logrelay runs, its sizing knobs,
 * its clusters and the customer accounts it onboards. Validated before any stack is built.
 */
export const EnvironmentSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,15}$/, "environment name: 2-16 chars, lowercase letters, digits, '-'"),
    account_id: AccountId,
    /** Regions with a regional stack; the first one also hosts the global (IAM) stack. */
    regions: z.array(RegionSchema).min(1),
    /**
     * Emulator mode for the local environment (moto). It changes only what the emulator cannot do:
     * no Lambda event source mapping, no TLS-only policy statements, RedrivePolicy diffs ignored.
     */
    emulator: z.boolean().default(false),
    backend: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("local") }).strict(),
        z
          .object({
            type: z.literal("s3"),
            bucket: z.string().regex(BUCKET_NAME_PATTERN),
            region: RegionSchema,
            key_prefix: z.string().default("logrelay/"),
          })
          .strict(),
      ])
      .default({ type: "local" }),
    ingestion: z.enum(["direct-s3", "firehose"]).default("direct-s3"),
    distributor: DistributorSizingSchema.default(DistributorSizingSchema.parse({})),
    queue: QueueSettingsSchema.default(QueueSettingsSchema.parse({})),
    staging: StagingSettingsSchema.default(StagingSettingsSchema.parse({})),
    api: ApiSettingsSchema.default(ApiSettingsSchema.parse({})),
    heartbeat: HeartbeatSettingsSchema.default(HeartbeatSettingsSchema.parse({})),
    /** Used when ingestion is "firehose": buffer size and interval, and the staged format. */
    firehose: z
      .object({
        // Dynamic partitioning needs at least 64 MB; 128 MB is Firehose's maximum.
        buffering_size_mb: z.number().int().min(64).max(128).default(128),
        buffering_interval_seconds: z.number().int().min(60).max(900).default(900),
        /** json: gzipped NDJSON; parquet: Parquet converted with a Glue table (cheaper to keep and query). */
        format: z.enum(["json", "parquet"]).default("json"),
      })
      .strict()
      .default({ buffering_size_mb: 128, buffering_interval_seconds: 900, format: "json" }),
    log_retention_days: RetentionDaysSchema.default(30),
    /** Days the audit trail keeps who changed a tenant's configs or registration (the table's TTL). */
    audit_retention_days: z.number().int().min(1).max(3650).default(400),
    /**
     * Retention of the log groups the distributor creates in customers' accounts, unless a
     * delivery config says `retention_days` (groups that already exist are left as they are).
     */
    customer_log_retention_days: RetentionDaysSchema.default(30),
    /**
     * Tenants whose logs must arrive fresh: an alarm per entry when the p99 of their delivery
     * latency (object created to delivered) stays above `max_p99_seconds` for 15 minutes.
     */
    tenant_freshness: z
      .array(
        z
          .object({
            tenant_id: TenantIdSchema,
            destination: DeliveryTypeSchema.default("cloudwatch"),
            max_p99_seconds: z.number().int().min(60).max(86_400),
          })
          .strict(),
      )
      .default([]),
    /**
     * Which tenants get their own CloudWatch metrics (about 10 custom metrics, $3 a month, each):
     * `none` (the default: at thousands of tenants they cost more than the pipeline; the stack's
     * Contributor Insights rules rank tenants from the distributor's log lines instead), `top`
     * (each distributor process's `top` busiest tenants) or `all`. Tenants in `tenant_freshness`
     * are metered in every mode (their alarms need the metric).
     */
    tenant_metrics: z
      .discriminatedUnion("mode", [
        z.object({ mode: z.literal("none") }).strict(),
        z.object({ mode: z.literal("all") }).strict(),
        z.object({ mode: z.literal("top"), top: z.number().int().min(1).max(9999).default(20) }).strict(),
      ])
      .default({ mode: "none" }),
    alarm_email: z.string().email().optional(),
    clusters: z.array(ClusterSchema).default([]),
    customers: z.array(CustomerAccountSchema).default([]),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((env, ctx) => {
    // Two tenants in one account whose prefixes overlap could write each other's log groups.
    env.customers.forEach((c, i) => {
      const other = env.customers.find(
        (o, j) =>
          j < i &&
          o.account_id === c.account_id &&
          (o.log_group_prefix.startsWith(c.log_group_prefix) ||
            c.log_group_prefix.startsWith(o.log_group_prefix)),
      );
      if (other) {
        ctx.addIssue({
          code: "custom",
          path: ["customers", i, "log_group_prefix"],
          message: `tenants ${other.tenant_id} and ${c.tenant_id} share account ${c.account_id} and their log-group prefixes (${other.log_group_prefix}, ${c.log_group_prefix}) overlap: each could write the other's log groups; give each its own prefix (the default is /logrelay/<tenant>/)`,
        });
      }
    });
    env.customers.forEach((c, i) => {
      if (c.tenant_id === env.heartbeat.tenant_id)
        ctx.addIssue({
          code: "custom",
          path: ["customers", i, "tenant_id"],
          message: `${c.tenant_id} is the heartbeat's tenant (heartbeat.tenant_id): give the customer another id, or the heartbeat another tenant_id`,
        });
    });
    const seen = new Set<string>();
    env.customers.forEach((c, i) => {
      if (seen.has(c.tenant_id))
        ctx.addIssue({
          code: "custom",
          path: ["customers", i, "tenant_id"],
          message: `duplicate tenant ${c.tenant_id}`,
        });
      seen.add(c.tenant_id);
    });
    // Two clusters on one OIDC issuer (ROSA's reusable OIDC configurations) would get byte-identical
    // trust policies: each could assume the other's roles. Their subjects must differ.
    const subjects = new Map<string, string>();
    const issuerOf = (url: string) => url.replace(/\/+$/, "").toLowerCase();
    env.clusters.forEach((c, i) => {
      const accounts: [string, string][] = [
        [c.namespace, c.service_account],
        ...(c.distributor
          ? [[c.distributor.namespace, DISTRIBUTOR_SERVICE_ACCOUNT] as [string, string]]
          : []),
      ];
      for (const [ns, sa] of accounts) {
        const subject = `${issuerOf(c.oidc_issuer_url)} system:serviceaccount:${ns}:${sa}`;
        const other = subjects.get(subject);
        if (other) {
          ctx.addIssue({
            code: "custom",
            path: ["clusters", i, "namespace"],
            message: `clusters ${other} and ${c.id} share the OIDC issuer ${c.oidc_issuer_url} and the subject system:serviceaccount:${ns}:${sa}: either could assume the other's roles; give one of them another namespace (or service_account)`,
          });
        }
        subjects.set(subject, c.id);
      }
    });
    env.clusters.forEach((c, i) => {
      const own = [c.namespace, c.distributor?.namespace].filter((n) => n === env.heartbeat.namespace);
      if (own.length > 0)
        ctx.addIssue({
          code: "custom",
          path: ["clusters", i, "namespace"],
          message: `namespace ${env.heartbeat.namespace} is the heartbeat's (heartbeat.namespace): the collector and the distributor need namespaces of their own`,
        });
      if (!env.regions.includes(c.region)) {
        ctx.addIssue({
          code: "custom",
          path: ["clusters", i, "region"],
          message: `cluster region ${c.region} has no regional stack: add it to "regions"`,
        });
      }
    });
  });

export type Environment = z.infer<typeof EnvironmentSchema>;
export type CustomerAccount = z.infer<typeof CustomerAccountSchema>;
export type Cluster = z.infer<typeof ClusterSchema>;

export class EnvironmentError extends Error {
  override readonly name = "EnvironmentError";
}

/** Validates a parsed environment file; the error names the file, each bad field and the fix. */
export function parseEnvironment(doc: unknown, source: string): Environment {
  const parsed = EnvironmentSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new EnvironmentError(`invalid environment definition ${source}:\n${lines.join("\n")}`);
}

export function loadEnvironmentFile(path: string): Environment {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new EnvironmentError(`cannot read environment definition ${path}: ${(e as Error).message}`);
  }
  const env = parseEnvironment(doc, path);
  if (`${env.name}.json` !== basename(path)) {
    throw new EnvironmentError(
      `invalid environment definition ${path}:\n  name: "${env.name}" must match the file name`,
    );
  }
  return env;
}

/** Tenants metered whatever `tenant_metrics` says: those with a freshness alarm (it needs their metric). */
export function alwaysMeteredTenants(env: Environment): string[] {
  return [...new Set(env.tenant_freshness.map((f) => f.tenant_id))].sort();
}

/** Every environments/*.json, or only those named (comma-separated LOGRELAY_ENVIRONMENTS). */
export function loadEnvironments(dir: string, only?: string): Environment[] {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
  const wanted = only
    ? only
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : names;
  for (const w of wanted) {
    if (!names.includes(w))
      throw new EnvironmentError(
        `no environment definition environments/${w}.json (have: ${names.join(", ")})`,
      );
  }
  return wanted.map((n) => loadEnvironmentFile(join(dir, `${n}.json`)));
}

/**
 * Days a delivery-ledger entry (claim and checkpoint) is kept: longer than any copy of a
 * notification can come back (queue retention, then DLQ retention after a redrive restarts its
 * clock) and than a replay can find the object (staging expiry). An entry that expired earlier
 * would let a late retry deliver again.
 */
export function ledgerTtlDays(env: Environment): number {
  const queueDays = (QUEUE_RETENTION_SECONDS + DLQ_RETENTION_SECONDS) / 86_400;
  return Math.max(queueDays, env.staging.expire_after_days) + 1;
}
