import type { Construct } from "constructs";
import { DISTRIBUTOR_SERVICE, METRICS_NAMESPACE } from "../functions/shared/contract";
import { FIREHOSE_ERRORS_PREFIX, QUARANTINE_PREFIX } from "../functions/shared/patterns";
import type { Environment } from "./config";
import { idFrom } from "./constructs/addresses";
import type { EncryptedBucket } from "./constructs/encrypted-bucket";
import { type AlarmSpec, prefixMetric } from "./constructs/monitoring";
import type { QueueWithDlq } from "./constructs/queue-with-dlq";

/** The id of a cluster's heartbeat alarm (`missing` or `lag`), which is also its name's suffix. */
export const heartbeatAlarmId = (kind: "missing" | "lag", clusterId: string) =>
  `heartbeat-${kind}-${idFrom(clusterId)}`;

/** The region's clusters whose heartbeats the regional stack watches. */
export const watchedClusters = (env: Environment, region: string) =>
  env.heartbeat.enabled ? env.clusters.filter((c) => c.region === region) : [];

/**
 * Per cluster of the region: its heartbeat missing for `stale_after_seconds` (no data counts as
 * missing: a silent cluster sends none), and its lag above `max_lag_seconds` three periods running.
 * Periods are the interval rounded up to whole minutes (alarms' standard resolution).
 */
export function heartbeatAlarms(env: Environment, region: string): Record<string, AlarmSpec> {
  const period = Math.ceil(env.heartbeat.interval_seconds / 60) * 60;
  const periods = Math.max(1, Math.ceil(env.heartbeat.stale_after_seconds / period));
  const specs: Record<string, AlarmSpec> = {};
  for (const c of watchedClusters(env, region)) {
    const dimensions = { service: DISTRIBUTOR_SERVICE, cluster_id: c.id };
    specs[heartbeatAlarmId("missing", c.id)] = {
      alarmDescription: `No heartbeat from cluster ${c.id} for ${env.heartbeat.stale_after_seconds} s: its collector, IRSA role, bucket notifications, queue or distributor is broken (logrelay status)`,
      namespace: METRICS_NAMESPACE,
      // Every delivered heartbeat object records one lag datapoint: none is silence.
      metricName: "HeartbeatLag",
      dimensions,
      statistic: "SampleCount",
      period,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
    };
    specs[heartbeatAlarmId("lag", c.id)] = {
      alarmDescription: `Cluster ${c.id}'s heartbeats take more than ${env.heartbeat.max_lag_seconds} s from emitted to delivered`,
      namespace: METRICS_NAMESPACE,
      metricName: "HeartbeatLag",
      dimensions,
      statistic: "Maximum",
      period,
      evaluationPeriods: 3,
      threshold: env.heartbeat.max_lag_seconds * 1000,
    };
  }
  return specs;
}

/** Alarms on backlog, failures and data no tenant gets (defaults in Monitoring), by id. */
export function regionalAlarms(
  scope: Construct,
  env: Environment,
  region: string,
  r: {
    readonly stagingBucket: EncryptedBucket;
    readonly delivery: QueueWithDlq;
    readonly distributorFunctionName: string;
    readonly firehoseStreamName?: string;
  },
): Record<string, AlarmSpec> {
  // Request metrics on the pipeline's own prefixes: every object there is data no tenant gets.
  const bucketId = r.stagingBucket.bucket.id;
  const objectsUnder = (filterId: string, alarmDescription: string): AlarmSpec => ({
    alarmDescription,
    namespace: "AWS/S3",
    metricName: "PutRequests",
    dimensions: { BucketName: r.stagingBucket.name, FilterId: filterId },
  });
  const specs: Record<string, AlarmSpec> = {
    "dlq-not-empty": {
      alarmDescription: "Messages reached the delivery DLQ: inspect with `logrelay dlq inspect`",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: r.delivery.dlq.name },
      statistic: "Maximum",
    },
    "oldest-message-age": {
      alarmDescription: "Delivery is falling behind",
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: r.delivery.queue.name },
      statistic: "Maximum",
      evaluationPeriods: 2,
      threshold: env.queue.oldest_message_alarm_seconds,
    },
    ...Object.fromEntries(
      ["Errors", "Throttles"].map((metric) => [
        `distributor-${metric.toLowerCase()}`,
        {
          alarmDescription: `Distributor function ${metric.toLowerCase()}`,
          namespace: "AWS/Lambda",
          metricName: metric,
          dimensions: { FunctionName: r.distributorFunctionName },
        },
      ]),
    ),
    "quarantined-events": objectsUnder(
      prefixMetric(scope, "quarantine", bucketId, QUARANTINE_PREFIX).name,
      `Collectors quarantined events (no valid tenant, application or pod): see ${QUARANTINE_PREFIX}<cluster>/<reason>/`,
    ),
    "registry-refusals": {
      alarmDescription:
        "The tenant registry refused deliveries: a config names an account not registered for its tenant, an unregistered tenant, or a cluster not allowed to carry a tenant's logs",
      namespace: METRICS_NAMESPACE,
      metricName: "RegistryRefusals",
      dimensions: { service: DISTRIBUTOR_SERVICE },
    },
    "parked-objects-lost": {
      alarmDescription:
        "Parked deliveries were lost: their staging copy expired before the customer's destination worked again (see `logrelay parked list`)",
      namespace: METRICS_NAMESPACE,
      metricName: "ObjectsLost",
      dimensions: { service: DISTRIBUTOR_SERVICE },
    },
    "permanent-delivery-failures": {
      alarmDescription: "Deliveries failed permanently (bad keys, invalid configs, unregistered accounts)",
      namespace: METRICS_NAMESPACE,
      metricName: "PermanentFailures",
      dimensions: { service: DISTRIBUTOR_SERVICE },
    },
  };
  Object.assign(specs, heartbeatAlarms(env, region));
  // Per-tenant freshness: the p99 of delivery latency, as the distributor reports it per tenant.
  for (const f of env.tenant_freshness) {
    specs[`freshness-${f.tenant_id}-${f.destination}`] = {
      alarmDescription: `Tenant ${f.tenant_id}'s ${f.destination} logs arrive late: p99 delivery latency above ${f.max_p99_seconds} s for 15 minutes`,
      namespace: METRICS_NAMESPACE,
      metricName: "DeliveryLatency",
      dimensions: { service: DISTRIBUTOR_SERVICE, tenant_id: f.tenant_id, destination: f.destination },
      extendedStatistic: "p99",
      evaluationPeriods: 3,
      threshold: f.max_p99_seconds * 1000,
    };
  }
  if (!r.firehoseStreamName) return specs;
  const stream = { DeliveryStreamName: r.firehoseStreamName };
  return {
    ...specs,
    "firehose-error-output": objectsUnder(
      prefixMetric(scope, "firehose-errors", bucketId, FIREHOSE_ERRORS_PREFIX).name,
      `Firehose could not partition, convert or deliver records: see ${FIREHOSE_ERRORS_PREFIX}<error type>/; re-put them with \`logrelay firehose redrive\``,
    ),
    "firehose-partition-limit": {
      alarmDescription:
        "Active partitions reached the stream's limit (500 by default): records go to the error output",
      namespace: "AWS/Firehose",
      metricName: "PartitionCountExceeded",
      dimensions: stream,
      statistic: "Maximum",
    },
    "firehose-throttled": {
      alarmDescription: "Firehose throttled collector records (they retry from their disk buffers)",
      namespace: "AWS/Firehose",
      metricName: "ThrottledRecords",
      dimensions: stream,
    },
    "firehose-data-freshness": {
      alarmDescription:
        "Records wait in Firehose longer than its buffering allows: delivery to S3 is failing",
      namespace: "AWS/Firehose",
      metricName: "DeliveryToS3.DataFreshness",
      dimensions: stream,
      statistic: "Maximum",
      evaluationPeriods: 2,
      // Dynamic partitioning may take 1.5x the buffering interval; then 5 minutes of grace.
      threshold: Math.round(env.firehose.buffering_interval_seconds * 1.5) + 300,
    },
  };
}
