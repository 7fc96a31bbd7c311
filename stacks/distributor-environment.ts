import { formatTenantMetrics } from "../functions/distributor/reporting/tenant-metering";
import {
  DISTRIBUTOR_SERVICE,
  ENV,
  METRICS_NAMESPACE,
  parallelParquetDeliveries,
} from "../functions/shared/contract";
import { alwaysMeteredTenants, type Environment, ledgerTtlDays } from "./config";

/** The regional resources the distributor works with (names or Terraform references). */
export interface DistributorTargets {
  readonly configTable: string;
  readonly registryTable: string;
  readonly ledgerTable: string;
  readonly stagingBucket: string;
  readonly centralRoleArn: string;
  readonly alarmTopicArn: string;
}

export interface DistributorRuntime {
  /** Memory of the process (the Lambda's size, the container's limit), for the Parquet cap. */
  readonly memoryMb: number;
  /** Set where the platform does not (a pod); Lambda sets AWS_REGION itself and reserves it. */
  readonly region?: string;
}

/**
 * Settings of the distributor (functions/distributor/settings.ts) that every deployment leaves at
 * the schema's default, with why. A setting the schema reads must be set by the builder below or
 * be listed here (test/unit/stacks/distributor-environment.test.ts holds the three together).
 */
export const LEFT_AT_DEFAULT: Readonly<Partial<Record<(typeof ENV)[keyof typeof ENV], string>>> = {
  [ENV.claimLeaseSeconds]: "60 s: renewed every third while working; long enough for a slow ledger",
  [ENV.messageBudgetSeconds]: "300 s per message in the worker (Lambda uses its remaining time)",
  [ENV.configCacheTtlSeconds]: "60 s: how long a config or registry change takes to reach every process",
  [ENV.retryMaxAttempts]: "5 attempts for transient errors other than throttling and 5xx",
  [ENV.retryBaseDelayMs]: "100 ms: the first backoff",
  [ENV.retryMaxDelayMs]: "5 s: the longest single backoff",
  [ENV.maxEventBytes]: "262,144 bytes: CloudWatch's long-standing event limit",
  [ENV.maxObjectBytes]: "1 GiB once decompressed: 16 times the largest collector batch planned (64 MB)",
  [ENV.maxCompressionRatio]: "200:1: real log batches compress up to about 75:1, gzip bombs about 1,000:1",
};

/**
 * The distributor's environment: one builder for the Lambda function (regional stack) and the
 * in-cluster worker (cluster stacks), so the same program gets the same settings wherever it runs.
 */
export function distributorEnvironment(
  env: Environment,
  targets: DistributorTargets,
  runtime: DistributorRuntime,
): Record<string, string> {
  const stagesParquet = env.ingestion === "firehose" && env.firehose.format === "parquet";
  return {
    ...(runtime.region !== undefined && { [ENV.region]: runtime.region }),
    [ENV.configTable]: targets.configTable,
    [ENV.registryTable]: targets.registryTable,
    [ENV.ledgerTable]: targets.ledgerTable,
    [ENV.stagingBuckets]: targets.stagingBucket,
    [ENV.ledgerTtlDays]: String(ledgerTtlDays(env)),
    [ENV.centralRoleArn]: targets.centralRoleArn,
    [ENV.alarmTopicArn]: targets.alarmTopicArn,
    [ENV.logGroupRetentionDays]: String(env.customer_log_retention_days),
    [ENV.tenantMetrics]: formatTenantMetrics(env.tenant_metrics),
    // Tenants with a freshness alarm are metered in every mode (their alarms need the metric).
    [ENV.meteredTenants]: alwaysMeteredTenants(env).join(","),
    // Parquet deliveries hold a row group's chunks each: as many at once as the memory allows.
    ...(stagesParquet && {
      [ENV.maxParallelDeliveries]: String(parallelParquetDeliveries(runtime.memoryMb)),
    }),
    [ENV.metricsNamespace]: METRICS_NAMESPACE,
    [ENV.serviceName]: DISTRIBUTOR_SERVICE,
    [ENV.logLevel]: env.distributor.log_level,
    [ENV.heartbeatTenant]: env.heartbeat.tenant_id,
    // Deferral (the worker's noisy-neighbour isolation) never takes a message's last receives.
    [ENV.queueMaxReceiveCount]: String(env.queue.max_receive_count),
  };
}
