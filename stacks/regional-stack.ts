import { resolve } from "node:path";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { S3BucketMetric } from "@cdktf/provider-aws/lib/s3-bucket-metric";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import {
  DISTRIBUTOR_SERVICE,
  ENV,
  METRICS_NAMESPACE,
  TENANT_API_SERVICE,
} from "../functions/shared/contract";
import { FIREHOSE_ERRORS_PREFIX, QUARANTINE_PREFIX } from "../functions/shared/patterns";
import { TENANT_API_ROUTES } from "../functions/tenant-api/routes";
import { STAGED_RECORD_COLUMNS } from "./collector/templates";
import type { Environment } from "./config";
import { EncryptedBucket } from "./constructs/encrypted-bucket";
import { type PolicyStatement, policyJson } from "./constructs/iam";
import { IamHttpApi } from "./constructs/iam-http-api";
import { NodejsFunction } from "./constructs/nodejs-function";
import { FIREHOSE_EXTENSION, PartitionedFirehose } from "./constructs/partitioned-firehose";
import { DLQ_RETENTION_SECONDS, QUEUE_RETENTION_SECONDS, QueueWithDlq } from "./constructs/queue-with-dlq";
import { centralRoleArn } from "./global-stack";
import { IAM_PATH, names } from "./naming";
import { awsProvider, configureBackend } from "./provider";

/** Principal tag the collector roles carry; the writer policy confines them to their cluster's keys. */
export const CLUSTER_TAG = "logrelay-cluster-id";

/** Names and ARNs of a regional stack's resources, known before it is applied (other stacks use them). */
export function regionalResourceNames(env: Environment, region: string) {
  const prefix = names(env.name).prefix(region);
  const account = env.account_id;
  return {
    prefix,
    stagingBucket: `${prefix}-${account}-staging`,
    stagingBucketArn: `arn:aws:s3:::${prefix}-${account}-staging`,
    deliveryQueueName: `${prefix}-delivery`,
    deliveryQueueArn: `arn:aws:sqs:${region}:${account}:${prefix}-delivery`,
    deliveryQueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${prefix}-delivery`,
    configTable: `${prefix}-tenant-configs`,
    configTableArn: `arn:aws:dynamodb:${region}:${account}:table/${prefix}-tenant-configs`,
    ledgerTable: `${prefix}-delivery-ledger`,
    ledgerTableArn: `arn:aws:dynamodb:${region}:${account}:table/${prefix}-delivery-ledger`,
    keyAliasArn: `arn:aws:kms:${region}:${account}:alias/${prefix}`,
    writerPolicyArn: `arn:aws:iam::${account}:policy${IAM_PATH}${prefix}-collector-writer`,
    firehoseStreamName: `${prefix}-ingest`,
    firehoseStreamArn: `arn:aws:firehose:${region}:${account}:deliverystream/${prefix}-ingest`,
    centralRoleArn: centralRoleArn(env),
    ledgerTtlDays: ledgerTtlDays(env),
  };
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
export type RegionalResourceNames = ReturnType<typeof regionalResourceNames>;

/** What a distributor (Lambda or in-cluster worker) may do: consume, read, look up, assume. */
export function distributorStatements(r: {
  queueArn: string;
  stagingBucketArn: string;
  keyArn: string;
  configTableArn: string;
  ledgerTableArn: string;
  centralRoleArn: string;
}): PolicyStatement[] {
  return [
    {
      Sid: "ConsumeDeliveryQueue",
      Effect: "Allow",
      Action: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
      ],
      Resource: r.queueArn,
    },
    {
      Sid: "ReadStagedObjects",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: `${r.stagingBucketArn}/*`,
    },
    { Sid: "DecryptStagedObjectsAndMessages", Effect: "Allow", Action: ["kms:Decrypt"], Resource: r.keyArn },
    { Sid: "ReadTenantConfigs", Effect: "Allow", Action: "dynamodb:Query", Resource: r.configTableArn },
    {
      Sid: "UseDeliveryLedger",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
      Resource: r.ledgerTableArn,
    },
    { Sid: "AssumeCentralRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: r.centralRoleArn },
  ];
}

/** The suffix of staged objects, which the bucket notification filters on. */
export function stagedObjectSuffix(env: Environment): string {
  if (env.ingestion === "firehose") return FIREHOSE_EXTENSION[env.firehose.format];
  return ".gz";
}

/**
 * What a cluster's collector may write, for the role tagged with its cluster id.
 *
 * direct-s3: objects whose second key segment is the cluster's id. IAM wildcards span '/', so an
 * Allow of "any/<id>/any" alone would also admit `acme/other-cluster/<id>/pod/f` (an object
 * claiming another cluster); the Deny removes every key where `<id>` is a later segment. The
 * collector's VRL quarantines the rare event whose application or pod name equals the cluster id,
 * so no legitimate write is refused.
 * firehose: records into the ingestion stream (Firehose cannot tie records to the caller; see
 * README), and quarantined events straight to `_quarantine/<id>/`.
 * Both: the region's key, only through S3 for the staging bucket.
 */
export function collectorWriterStatements(r: {
  ingestion: Environment["ingestion"];
  stagingBucketArn: string;
  keyArn: string;
  region: string;
  firehoseStreamArn: string;
}): PolicyStatement[] {
  // "$${" is Terraform's escape for a literal "${": an IAM policy variable, not interpolation.
  const clusterId = `$\${aws:PrincipalTag/${CLUSTER_TAG}}`;
  const encrypt: PolicyStatement = {
    Sid: "EncryptForStagingBucketOnly",
    Effect: "Allow",
    Action: ["kms:GenerateDataKey", "kms:Decrypt"],
    Resource: r.keyArn,
    Condition: {
      StringEquals: {
        "kms:ViaService": `s3.${r.region}.amazonaws.com`,
        "kms:EncryptionContext:aws:s3:arn": r.stagingBucketArn,
      },
    },
  };
  if (r.ingestion === "direct-s3") {
    return [
      {
        Sid: "PutOwnClusterObjects",
        Effect: "Allow",
        Action: "s3:PutObject",
        Resource: `${r.stagingBucketArn}/*/${clusterId}/*`,
      },
      {
        Sid: "ClusterIdOnlyAsSecondSegment",
        Effect: "Deny",
        Action: "s3:PutObject",
        Resource: `${r.stagingBucketArn}/*/*/${clusterId}/*`,
      },
      encrypt,
    ];
  }
  return [
    {
      Sid: "PutToIngestionStream",
      Effect: "Allow",
      // Describe: Vector's healthcheck of the sink.
      Action: ["firehose:PutRecord", "firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"],
      Resource: r.firehoseStreamArn,
    },
    {
      Sid: "PutOwnQuarantinedObjects",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: `${r.stagingBucketArn}/${QUARANTINE_PREFIX}${clusterId}/*`,
    },
    encrypt,
  ];
}

/**
 * Per environment and region: the staging bucket and its notifications (S3 -> SNS -> SQS + DLQ),
 * the tenant-config and ledger tables, the distributor function, the collectors' writer policy,
 * alarms and a dashboard. One Terraform state.
 */
export class RegionalStack extends TerraformStack {
  readonly key: KmsKey;
  readonly staging: EncryptedBucket;
  readonly topic: SnsTopic;
  readonly delivery: QueueWithDlq;
  readonly configTable: DynamodbTable;
  readonly ledgerTable: DynamodbTable;
  readonly distributor: NodejsFunction;
  readonly writerPolicy: IamPolicy;
  readonly tenantApi: IamHttpApi;
  readonly firehose?: PartitionedFirehose;

  constructor(scope: Construct, env: Environment, region: string) {
    const n = names(env.name);
    super(scope, n.regionStack(region));
    configureBackend(this, env, n.regionStack(region));
    awsProvider(this, env, { region, stackKind: "regional" });
    const account = env.account_id;
    const prefix = n.prefix(region);
    const r = regionalResourceNames(env, region);
    const tlsOnly = !env.emulator;

    this.key = new KmsKey(this, "key", {
      description: `logrelay ${env.name} ${region}: staging bucket, notifications, tables, logs`,
      enableKeyRotation: true,
      deletionWindowInDays: env.emulator ? 7 : 30,
      policy: policyJson(
        {
          // Standard root statement: lets IAM policies in this account grant use of the key;
          // without it the key would be unmanageable. Key use itself is granted per role below.
          Sid: "AccountAdministersKeyThroughIam",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${account}:root` },
          Action: "kms:*",
          Resource: "*",
        },
        {
          Sid: "S3AndSnsEncryptNotifications",
          Effect: "Allow",
          Principal: { Service: ["s3.amazonaws.com", "sns.amazonaws.com"] },
          Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
          Resource: "*",
          Condition: { StringEquals: { "aws:SourceAccount": account } },
        },
        {
          Sid: "CloudWatchLogsEncryptOwnLogGroups",
          Effect: "Allow",
          Principal: { Service: `logs.${region}.amazonaws.com` },
          Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
          Resource: "*",
          Condition: {
            ArnLike: {
              "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${account}:log-group:*`,
            },
          },
        },
      ),
    });
    new KmsAlias(this, "key-alias", { name: `alias/${prefix}`, targetKeyId: this.key.keyId });

    this.staging = new EncryptedBucket(this, "staging", {
      bucketName: r.stagingBucket,
      kmsKey: this.key,
      versioning: env.staging.versioning,
      expireAfterDays: env.staging.expire_after_days,
      ...(env.staging.intelligent_tiering_after_days !== undefined && {
        intelligentTieringAfterDays: env.staging.intelligent_tiering_after_days,
      }),
      tlsOnly,
    });

    this.topic = new SnsTopic(this, "objects-topic", {
      name: `${prefix}-objects`,
      kmsMasterKeyId: this.key.arn,
    });
    const topicPolicy = new SnsTopicPolicy(this, "objects-topic-policy", {
      arn: this.topic.arn,
      policy: policyJson({
        Sid: "StagingBucketPublishesOnly",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sns:Publish",
        Resource: this.topic.arn,
        Condition: {
          ArnLike: { "aws:SourceArn": this.staging.arn },
          StringEquals: { "aws:SourceAccount": account },
        },
      }),
    });
    new S3BucketNotification(this, "staging-notification", {
      bucket: this.staging.bucket.id,
      topic: [
        { topicArn: this.topic.arn, events: ["s3:ObjectCreated:*"], filterSuffix: stagedObjectSuffix(env) },
      ],
      // S3 checks that it may publish when the notification is created.
      dependsOn: [topicPolicy],
    });

    const timeout = env.distributor.timeout_seconds;
    this.delivery = new QueueWithDlq(this, "delivery", {
      queueName: r.deliveryQueueName,
      kmsKey: this.key,
      visibilityTimeoutSeconds: Math.min(43_200, 6 * timeout),
      maxReceiveCount: env.queue.max_receive_count,
      ignoreRedrivePolicyDiff: env.emulator,
    });
    new SqsQueuePolicy(this, "delivery-queue-policy", {
      queueUrl: this.delivery.queue.url,
      policy: policyJson({
        Sid: "ObjectsTopicOnly",
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: this.delivery.queue.arn,
        Condition: { ArnEquals: { "aws:SourceArn": this.topic.arn } },
      }),
    });
    new SnsTopicSubscription(this, "delivery-subscription", {
      topicArn: this.topic.arn,
      protocol: "sqs",
      endpoint: this.delivery.queue.arn,
    });

    const sse = { enabled: true, kmsKeyArn: this.key.arn };
    this.configTable = new DynamodbTable(this, "tenant-configs", {
      name: r.configTable,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "tenant_id",
      rangeKey: "type",
      attribute: [
        { name: "tenant_id", type: "S" },
        { name: "type", type: "S" },
      ],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: sse,
      ttl: { attributeName: "ttl", enabled: true },
      deletionProtectionEnabled: !env.emulator,
    });
    this.ledgerTable = new DynamodbTable(this, "delivery-ledger", {
      name: r.ledgerTable,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      attribute: [{ name: "pk", type: "S" }],
      // Losing the ledger means duplicates: every claim and checkpoint would be forgotten.
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: sse,
      ttl: { attributeName: "ttl", enabled: true },
      deletionProtectionEnabled: !env.emulator,
    });

    this.distributor = new NodejsFunction(this, "distributor", {
      functionName: `${prefix}-distributor`,
      roleName: n.distributorRole(region),
      entry: resolve(__dirname, "..", "functions", "distributor", "index.ts"),
      memoryMb: env.distributor.memory_mb,
      timeoutSeconds: timeout,
      ...(env.distributor.reserved_concurrency !== undefined && {
        reservedConcurrency: env.distributor.reserved_concurrency,
      }),
      logRetentionDays: env.log_retention_days,
      kmsKey: this.key,
      policyStatements: distributorStatements({
        queueArn: this.delivery.queue.arn,
        stagingBucketArn: this.staging.arn,
        keyArn: this.key.arn,
        configTableArn: this.configTable.arn,
        ledgerTableArn: this.ledgerTable.arn,
        centralRoleArn: centralRoleArn(env),
      }),
      environment: {
        [ENV.configTable]: this.configTable.name,
        [ENV.ledgerTable]: this.ledgerTable.name,
        [ENV.ledgerTtlDays]: String(r.ledgerTtlDays),
        [ENV.centralRoleArn]: centralRoleArn(env),
        [ENV.metricsNamespace]: METRICS_NAMESPACE,
        [ENV.serviceName]: DISTRIBUTOR_SERVICE,
        [ENV.logLevel]: env.distributor.log_level,
      },
    });
    new LambdaEventSourceMapping(this, "distributor-trigger", {
      functionName: this.distributor.fn.arn,
      eventSourceArn: this.delivery.queue.arn,
      batchSize: env.distributor.batch_size,
      maximumBatchingWindowInSeconds: env.distributor.batching_window_seconds,
      functionResponseTypes: ["ReportBatchItemFailures"],
      // The emulator cannot run functions: there the handler runs in-process instead.
      enabled: !env.emulator,
    });

    const tenantApiFunction = new NodejsFunction(this, "tenant-api", {
      functionName: `${prefix}-tenant-api`,
      roleName: n.tenantApiRole(region),
      entry: resolve(__dirname, "..", "functions", "tenant-api", "index.ts"),
      memoryMb: 512,
      timeoutSeconds: 30,
      logRetentionDays: env.log_retention_days,
      kmsKey: this.key,
      policyStatements: [
        {
          Sid: "ManageTenantConfigs",
          Effect: "Allow",
          Action: [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:Scan",
          ],
          Resource: this.configTable.arn,
        },
        // validate assumes customer roles exactly as the distributor does.
        {
          Sid: "AssumeCentralRole",
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Resource: centralRoleArn(env),
        },
      ],
      environment: {
        [ENV.configTable]: this.configTable.name,
        [ENV.centralRoleArn]: centralRoleArn(env),
        [ENV.serviceName]: TENANT_API_SERVICE,
      },
    });
    this.tenantApi = new IamHttpApi(this, "tenant-api-http", {
      apiName: `${prefix}-tenant-api`,
      fn: tenantApiFunction.fn,
      routes: TENANT_API_ROUTES,
      // Routes had positional ids up to 0.1.0, in this same order.
      positionalRouteOrder: TENANT_API_ROUTES,
      throttlingRateLimit: env.api.throttling_rate_limit,
      throttlingBurstLimit: env.api.throttling_burst_limit,
      logRetentionDays: env.log_retention_days,
      kmsKey: this.key,
    });

    this.writerPolicy = new IamPolicy(this, "collector-writer-policy", {
      name: `${prefix}-collector-writer`,
      path: IAM_PATH,
      description: `Collectors write staged logs of their own cluster only (principal tag ${CLUSTER_TAG})`,
      policy: policyJson(
        ...collectorWriterStatements({
          ingestion: env.ingestion,
          stagingBucketArn: this.staging.arn,
          keyArn: this.key.arn,
          region,
          firehoseStreamArn: r.firehoseStreamArn,
        }),
      ),
    });

    if (env.ingestion === "firehose") {
      this.firehose = new PartitionedFirehose(this, "ingest", {
        streamName: r.firehoseStreamName,
        bucket: this.staging,
        kmsKey: this.key,
        accountId: account,
        region,
        bufferingSizeMb: env.firehose.buffering_size_mb,
        bufferingIntervalSeconds: env.firehose.buffering_interval_seconds,
        format: env.firehose.format,
        columns: STAGED_RECORD_COLUMNS,
        logRetentionDays: env.log_retention_days,
      });
    }
    // Request metrics on the pipeline's own prefixes: every object there is data no tenant gets.
    const prefixMetric = (id: string, prefix: string) =>
      new S3BucketMetric(this, id, { bucket: this.staging.bucket.id, name: id, filter: { prefix } }).name;
    const quarantineMetric = prefixMetric("quarantine", QUARANTINE_PREFIX);
    const firehoseErrorsMetric = this.firehose
      ? prefixMetric("firehose-errors", FIREHOSE_ERRORS_PREFIX)
      : undefined;

    const alarmTopic = new SnsTopic(this, "alarm-topic", {
      name: `${prefix}-alarms`,
      kmsMasterKeyId: this.key.arn,
    });
    if (env.alarm_email) {
      new SnsTopicSubscription(this, "alarm-email", {
        topicArn: alarmTopic.arn,
        protocol: "email",
        endpoint: env.alarm_email,
      });
    }
    const alarm = (
      id: string,
      props: Omit<ConstructorParameters<typeof CloudwatchMetricAlarm>[2], "alarmName" | "alarmActions">,
    ) =>
      new CloudwatchMetricAlarm(this, id, {
        alarmName: `${prefix}-${id}`,
        alarmActions: [alarmTopic.arn],
        okActions: [alarmTopic.arn],
        treatMissingData: "notBreaching",
        ...props,
      });
    alarm("dlq-not-empty", {
      alarmDescription: "Messages reached the delivery DLQ: inspect with `logrelay dlq inspect`",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: this.delivery.dlq.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });
    alarm("oldest-message-age", {
      alarmDescription: "Delivery is falling behind",
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: this.delivery.queue.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 2,
      threshold: env.queue.oldest_message_alarm_seconds,
      comparisonOperator: "GreaterThanThreshold",
    });
    for (const metric of ["Errors", "Throttles"]) {
      alarm(`distributor-${metric.toLowerCase()}`, {
        alarmDescription: `Distributor function ${metric.toLowerCase()}`,
        namespace: "AWS/Lambda",
        metricName: metric,
        dimensions: { FunctionName: this.distributor.fn.functionName },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      });
    }
    const objectsUnder = (id: string, filterId: string, description: string) =>
      alarm(id, {
        alarmDescription: description,
        namespace: "AWS/S3",
        metricName: "PutRequests",
        dimensions: { BucketName: this.staging.name, FilterId: filterId },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      });
    objectsUnder(
      "quarantined-events",
      quarantineMetric,
      `Collectors quarantined events (no valid tenant, application or pod): see ${QUARANTINE_PREFIX}<cluster>/<reason>/`,
    );
    if (this.firehose && firehoseErrorsMetric) {
      const stream = { DeliveryStreamName: this.firehose.stream.name };
      objectsUnder(
        "firehose-error-output",
        firehoseErrorsMetric,
        `Firehose could not partition, convert or deliver records: see ${FIREHOSE_ERRORS_PREFIX}<error type>/; re-put them with \`logrelay firehose redrive\``,
      );
      alarm("firehose-partition-limit", {
        alarmDescription:
          "Active partitions reached the stream's limit (500 by default): records go to the error output",
        namespace: "AWS/Firehose",
        metricName: "PartitionCountExceeded",
        dimensions: stream,
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      });
      alarm("firehose-throttled", {
        alarmDescription: "Firehose throttled collector records (they retry from their disk buffers)",
        namespace: "AWS/Firehose",
        metricName: "ThrottledRecords",
        dimensions: stream,
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      });
      alarm("firehose-data-freshness", {
        alarmDescription:
          "Records wait in Firehose longer than its buffering allows: delivery to S3 is failing",
        namespace: "AWS/Firehose",
        metricName: "DeliveryToS3.DataFreshness",
        dimensions: stream,
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 2,
        // Dynamic partitioning may take 1.5x the buffering interval; then 5 minutes of grace.
        threshold: Math.round(env.firehose.buffering_interval_seconds * 1.5) + 300,
        comparisonOperator: "GreaterThanThreshold",
      });
    }
    alarm("permanent-delivery-failures", {
      alarmDescription: "Deliveries failed permanently (bad keys, invalid configs, denied customer roles)",
      namespace: METRICS_NAMESPACE,
      metricName: "PermanentFailures",
      dimensions: { service: DISTRIBUTOR_SERVICE },
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });

    const widget = (title: string, metrics: unknown[][], x: number, y: number) => ({
      type: "metric",
      x,
      y,
      width: 12,
      height: 6,
      properties: { title, region, stat: "Sum", period: 300, metrics },
    });
    new CloudwatchDashboard(this, "dashboard", {
      dashboardName: prefix,
      dashboardBody: JSON.stringify({
        widgets: [
          widget(
            "Queue",
            [
              ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", this.delivery.queue.name],
              ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", this.delivery.dlq.name],
              [
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                "QueueName",
                this.delivery.queue.name,
                { stat: "Maximum" },
              ],
            ],
            0,
            0,
          ),
          widget(
            "Distributor",
            ["Invocations", "Errors", "Throttles"].map((m) => [
              "AWS/Lambda",
              m,
              "FunctionName",
              this.distributor.fn.functionName,
            ]),
            12,
            0,
          ),
          widget(
            "Delivery",
            [
              [METRICS_NAMESPACE, "PermanentFailures", "service", DISTRIBUTOR_SERVICE],
              [METRICS_NAMESPACE, "MalformedMessages", "service", DISTRIBUTOR_SERVICE],
            ],
            0,
            6,
          ),
        ],
      }),
    });

    const outputs: Record<string, string> = {
      staging_bucket: this.staging.name,
      kms_key_arn: this.key.arn,
      objects_topic_arn: this.topic.arn,
      delivery_queue_url: this.delivery.queue.url,
      delivery_dlq_url: this.delivery.dlq.url,
      tenant_config_table: this.configTable.name,
      delivery_ledger_table: this.ledgerTable.name,
      distributor_function: this.distributor.fn.functionName,
      distributor_log_group: this.distributor.logGroup.name,
      collector_writer_policy_arn: this.writerPolicy.arn,
      central_log_distribution_role_arn: centralRoleArn(env),
      alarm_topic_arn: alarmTopic.arn,
      tenant_api_url: this.tenantApi.stage.invokeUrl,
      ...(this.firehose && { firehose_stream_name: this.firehose.stream.name }),
    };
    for (const [name, value] of Object.entries(outputs)) new TerraformOutput(this, name, { value });
  }
}
