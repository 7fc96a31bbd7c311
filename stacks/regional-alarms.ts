import type { Construct } from "constructs";
import { DISTRIBUTOR_SERVICE, METRICS_NAMESPACE } from "../functions/shared/contract";
import { FIREHOSE_ERRORS_PREFIX, QUARANTINE_PREFIX } from "../functions/shared/patterns";
import type { Environment } from "./config";
import type { EncryptedBucket } from "./constructs/encrypted-bucket";
import { type AlarmSpec, prefixMetric } from "./constructs/monitoring";
import type { QueueWithDlq } from "./constructs/queue-with-dlq";

/** Alarms on backlog, failures and data no tenant gets (defaults in Monitoring), by id. */
export function regionalAlarms(
  scope: Construct,
  env: Environment,
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
