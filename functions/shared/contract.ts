/**
 * What the stacks and the functions must agree on, written once: the stacks import these values
 * into the resources they create, the functions read them at run time.
 */

/** CloudWatch namespace of the distributor's embedded metrics (alarms and dashboard read it). */
export const METRICS_NAMESPACE = "Logrelay";

/** Powertools service names: the `service` metric dimension and log field. */
export const DISTRIBUTOR_SERVICE = "logrelay-distributor";
export const TENANT_API_SERVICE = "logrelay-tenant-api";

/**
 * Session tags the distributor passes on the customer-role hop; the central role's trust policy
 * allows exactly these keys and the customer role requires `tenant_id` to equal its tenant.
 * Nothing per cluster: one session serves every cluster of a tenant.
 */
export const SESSION_TAGS = { tenant: "tenant_id" } as const;
export const SESSION_TAG_KEYS: readonly string[] = Object.values(SESSION_TAGS);

/**
 * Environment variables the stacks set and the functions' settings loaders read: the settings
 * schemas are keyed by these, and the stacks build them with one builder per function
 * (stacks/distributor-environment.ts for the Lambda and the in-cluster distributor alike).
 */
export const ENV = {
  region: "AWS_REGION",
  configTable: "TENANT_CONFIG_TABLE",
  registryTable: "TENANT_REGISTRY_TABLE",
  ledgerTable: "DELIVERY_LEDGER_TABLE",
  stagingBuckets: "STAGING_BUCKETS",
  ledgerTtlDays: "LEDGER_TTL_DAYS",
  centralRoleArn: "CENTRAL_LOG_DISTRIBUTION_ROLE_ARN",
  metricsNamespace: "METRICS_NAMESPACE",
  serviceName: "POWERTOOLS_SERVICE_NAME",
  logLevel: "POWERTOOLS_LOG_LEVEL",
  alarmTopicArn: "ALARM_TOPIC_ARN",
  logGroupRetentionDays: "LOG_GROUP_RETENTION_DAYS",
  tenantMetrics: "TENANT_METRICS",
  meteredTenants: "METERED_TENANTS",
  maxParallelDeliveries: "MAX_PARALLEL_DELIVERIES",
  claimLeaseSeconds: "CLAIM_LEASE_SECONDS",
  messageBudgetSeconds: "MESSAGE_BUDGET_SECONDS",
  configCacheTtlSeconds: "CONFIG_CACHE_TTL_SECONDS",
  retryMaxAttempts: "RETRY_MAX_ATTEMPTS",
  retryBaseDelayMs: "RETRY_BASE_DELAY_MS",
  retryMaxDelayMs: "RETRY_MAX_DELAY_MS",
  maxEventBytes: "MAX_EVENT_BYTES",
  maxObjectBytes: "MAX_OBJECT_BYTES",
  maxCompressionRatio: "MAX_COMPRESSION_RATIO",
  heartbeatTenant: "HEARTBEAT_TENANT",
  queueMaxReceiveCount: "QUEUE_MAX_RECEIVE_COUNT",
  auditTable: "AUDIT_TABLE",
  auditRetentionDays: "AUDIT_RETENTION_DAYS",
} as const;

/** Log levels the functions take (POWERTOOLS_LOG_LEVEL), as the environment files spell them. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;

/**
 * Parquet deliveries a process of `memoryMb` may run at once. One holds a row group's compressed
 * column chunks and a decoded slice: a 128 MiB row group took a bundled process from 108 MB (an
 * NDJSON delivery) to 183-188 MB, so about 80 MB each, over about 192 MB for the runtime and the
 * rest. NDJSON deliveries stream (a few MB each) and need no such cap.
 */
export function parallelParquetDeliveries(memoryMb: number): number {
  return Math.max(1, Math.floor((memoryMb - 192) / 80));
}

/** Tags on the log groups the distributor creates in customers' accounts. */
export const LOG_GROUP_TAGS = { managedBy: "managed-by", tenant: "logrelay:tenant" } as const;

/**
 * What writing into a customer's log group takes: the distributor's session policy allows these
 * on the one group, the customer role on its prefix (create with tags and KMS key, set retention).
 */
export const LOG_GROUP_WRITER_ACTIONS = [
  "logs:CreateLogGroup",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "logs:DescribeLogStreams",
  "logs:PutRetentionPolicy",
  "logs:TagResource",
  "logs:TagLogGroup",
] as const;

/**
 * The delivery ledger table as the stack creates it and the distributor reads it: one item per key
 * `pk`, expiring at `ttl` (epoch seconds), and the sparse index of parked deliveries and destination
 * records (partition `park_group`, sort `park_order`; only items carrying both are in it). The item
 * layout inside lives in functions/distributor/adapters/ledger-items.ts.
 */
export const LEDGER_TABLE = { hashKey: "pk", ttlAttribute: "ttl" } as const;
export const LEDGER_PARKED_INDEX = { name: "parked", hashKey: "park_group", rangeKey: "park_order" } as const;

/** The event a schedule sends the distributor function to probe parked destinations and recover them. */
export const RECOVER_PARKED_EVENT = { logrelay: "recover-parked" } as const;
