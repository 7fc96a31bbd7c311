import { resolve } from "node:path";
import type { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import type { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { Aspects, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import {
  DISTRIBUTOR_SERVICE,
  ENV,
  METRICS_NAMESPACE,
  TENANT_API_SERVICE,
} from "../functions/shared/contract";
import { TENANT_API_ROUTES } from "../functions/tenant-api/routes";
import { STAGED_RECORD_COLUMNS } from "./collector/templates";
import type { Environment } from "./config";
import { EncryptedBucket } from "./constructs/encrypted-bucket";
import { policyJson } from "./constructs/iam";
import { IamHttpApi } from "./constructs/iam-http-api";
import { Monitoring } from "./constructs/monitoring";
import { NodejsFunction } from "./constructs/nodejs-function";
import { ObjectNotifications } from "./constructs/object-notifications";
import { ParkedRecoverySchedule } from "./constructs/parked-recovery-schedule";
import { FIREHOSE_EXTENSION, PartitionedFirehose } from "./constructs/partitioned-firehose";
import type { QueueWithDlq } from "./constructs/queue-with-dlq";
import { TenantInsights } from "./constructs/tenant-insights";
import { distributorEnvironment } from "./distributor-environment";
import { heartbeatDestination } from "./heartbeat";
import { AddressMigrations } from "./migrations";
import { CLUSTER_TAG, IAM_PATH, names, regionalResourceNames } from "./naming";
import {
  collectorWriterStatements,
  distributorStatements,
  regionalKeyStatements,
  tenantApiStatements,
} from "./policies";
import { awsProvider, configureBackend } from "./provider";
import { heartbeatAlarmId, regionalAlarms, watchedClusters } from "./regional-alarms";
import { regionalTables } from "./regional-tables";

/** The 10 tenants (and destinations) with the highest 5-minute sum of a distributor metric. */
export function topTenants(metric: string): string {
  return `SORT(SEARCH('{${METRICS_NAMESPACE},destination,service,tenant_id} MetricName="${metric}"', 'Sum', 300), SUM, DESC, 10)`;
}

/** Dashboard widgets of the region's clusters' heartbeats: the lag and the heartbeats lost, per cluster. */
export function heartbeatWidgets(env: Environment, region: string): Record<string, string> {
  if (watchedClusters(env, region).length === 0) return {};
  const search = (metric: string, stat: string) =>
    `SEARCH('{${METRICS_NAMESPACE},cluster_id,service} MetricName="${metric}"', '${stat}', 300)`;
  return {
    "Heartbeat lag per cluster (ms)": search("HeartbeatLag", "Maximum"),
    "Heartbeats lost per cluster": search("HeartbeatGaps", "Sum"),
  };
}

/** The suffix of staged objects, which the bucket notification filters on. */
export function stagedObjectSuffix(env: Environment): string {
  if (env.ingestion === "firehose") return FIREHOSE_EXTENSION[env.firehose.format];
  return ".gz";
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
  readonly registryTable: DynamodbTable;
  readonly ledgerTable: DynamodbTable;
  readonly auditTable: DynamodbTable;
  readonly distributor: NodejsFunction;
  readonly writerPolicy: IamPolicy;
  readonly tenantApi: IamHttpApi;
  readonly firehose?: PartitionedFirehose;
  readonly monitoring: Monitoring;
  /** Contributor Insights rules ranking tenants from the distributor's log lines (in every metrics mode). */
  readonly tenantInsights: TenantInsights;

  constructor(scope: Construct, env: Environment, region: string) {
    const n = names(env.name);
    super(scope, n.regionStack(region));
    configureBackend(this, env, n.regionStack(region));
    Aspects.of(this).add(new AddressMigrations("regional"));
    awsProvider(this, env, { region, stackKind: "regional" });
    const account = env.account_id;
    const prefix = n.prefix(region);
    const r = regionalResourceNames(env, region);
    const tlsOnly = !env.emulator;

    this.key = new KmsKey(this, "key", {
      description: `logrelay ${env.name} ${region}: staging bucket, notifications, tables, logs`,
      enableKeyRotation: true,
      deletionWindowInDays: env.emulator ? 7 : 30,
      policy: policyJson(...regionalKeyStatements(account, region)),
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

    const timeout = env.distributor.timeout_seconds;
    const notifications = new ObjectNotifications(this, "notifications", {
      bucket: { arn: this.staging.arn, id: this.staging.bucket.id },
      filterSuffix: stagedObjectSuffix(env),
      topicName: `${prefix}-objects`,
      queueName: r.deliveryQueueName,
      visibilityTimeoutSeconds: Math.min(43_200, 6 * timeout),
      maxReceiveCount: env.queue.max_receive_count,
      accountId: account,
      queueSenders: env.queue.operator_roles,
      kmsKey: this.key,
      ignoreRedrivePolicyDiff: env.emulator,
    });
    this.topic = notifications.topic;
    this.delivery = notifications.delivery;

    ({
      configTable: this.configTable,
      registryTable: this.registryTable,
      ledgerTable: this.ledgerTable,
      auditTable: this.auditTable,
    } = regionalTables(this, env, r, this.key));

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
        registryTableArn: this.registryTable.arn,
        ledgerTableArn: this.ledgerTable.arn,
        centralRoleArn: r.centralRoleArn,
        alarmTopicArn: r.alarmTopicArn,
        region,
      }),
      environment: distributorEnvironment(
        env,
        {
          configTable: this.configTable.name,
          registryTable: this.registryTable.name,
          ledgerTable: this.ledgerTable.name,
          stagingBucket: r.stagingBucket,
          centralRoleArn: r.centralRoleArn,
          alarmTopicArn: r.alarmTopicArn,
        },
        { memoryMb: env.distributor.memory_mb },
      ),
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
      policyStatements: tenantApiStatements({
        configTableArn: this.configTable.arn,
        registryTableArn: this.registryTable.arn,
        auditTableArn: this.auditTable.arn,
        centralRoleArn: r.centralRoleArn,
      }),
      environment: {
        [ENV.configTable]: this.configTable.name,
        [ENV.registryTable]: this.registryTable.name,
        [ENV.auditTable]: this.auditTable.name,
        [ENV.auditRetentionDays]: String(env.audit_retention_days),
        [ENV.centralRoleArn]: r.centralRoleArn,
        [ENV.serviceName]: TENANT_API_SERVICE,
      },
    });
    this.tenantApi = new IamHttpApi(this, "tenant-api-http", {
      apiName: `${prefix}-tenant-api`,
      fn: tenantApiFunction.fn,
      routes: TENANT_API_ROUTES,
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
    if (env.heartbeat.enabled)
      heartbeatDestination(this, env, region, {
        configTable: this.configTable,
        registryTable: this.registryTable,
        kmsKey: this.key,
      });
    new ParkedRecoverySchedule(this, "recover-parked", {
      ruleName: `${prefix}-recover-parked`,
      everyMinutes: env.distributor.recover_parked_every_minutes,
      fn: this.distributor.fn,
      // The emulator cannot run functions: there `logrelay parked recover` runs instead.
      enabled: !env.emulator,
    });

    this.tenantInsights = new TenantInsights(this, "tenant-insights", {
      prefix,
      logGroupNames: [this.distributor.logGroup.name],
    });
    this.monitoring = new Monitoring(this, "monitoring", {
      prefix,
      topicName: r.alarmTopicName,
      region,
      kmsKey: this.key,
      ...(env.alarm_email && { alarmEmail: env.alarm_email }),
      alarms: regionalAlarms(this, env, region, {
        stagingBucket: this.staging,
        delivery: this.delivery,
        distributorFunctionName: this.distributor.fn.functionName,
        ...(this.firehose && { firehoseStreamName: this.firehose.stream.name }),
      }),
      widgets: {
        Queue: [
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
        Distributor: ["Invocations", "Errors", "Throttles"].map((m) => [
          "AWS/Lambda",
          m,
          "FunctionName",
          this.distributor.fn.functionName,
        ]),
        Delivery: ["PermanentFailures", "MalformedMessages", "ObjectsParked", "ObjectsLost"].map((m) => [
          METRICS_NAMESPACE,
          m,
          "service",
          DISTRIBUTOR_SERVICE,
        ]),
      },
      // Who sends the most, and who fails the most: the top 10 tenants, by metric math over SEARCH
      // when every tenant has metrics, else by the Contributor Insights rules over the log lines.
      ...(env.tenant_metrics.mode === "all"
        ? {
            expressionWidgets: {
              "Top tenants by events delivered": topTenants("EventsDelivered"),
              "Top tenants by delivery failures": topTenants("DeliveryFailures"),
              ...heartbeatWidgets(env, region),
            },
          }
        : {
            insightWidgets: this.tenantInsights.widgets(),
            expressionWidgets: heartbeatWidgets(env, region),
          }),
      // The emulator has no composite alarms (moto does not implement PutCompositeAlarm).
      ...(watchedClusters(env, region).length > 0 &&
        !env.emulator && {
          composites: {
            "clusters-silent": {
              alarmDescription:
                "Clusters silent: no heartbeat from at least one cluster (logrelay status --check names them)",
              anyOf: watchedClusters(env, region).map((c) => heartbeatAlarmId("missing", c.id)),
            },
          },
        }),
    });

    const outputs: Record<string, string> = {
      staging_bucket: this.staging.name,
      kms_key_arn: this.key.arn,
      objects_topic_arn: this.topic.arn,
      delivery_queue_url: this.delivery.queue.url,
      delivery_dlq_url: this.delivery.dlq.url,
      tenant_config_table: this.configTable.name,
      tenant_registry_table: this.registryTable.name,
      delivery_ledger_table: this.ledgerTable.name,
      tenant_audit_table: this.auditTable.name,
      distributor_function: this.distributor.fn.functionName,
      distributor_log_group: this.distributor.logGroup.name,
      collector_writer_policy_arn: this.writerPolicy.arn,
      central_log_distribution_role_arn: r.centralRoleArn,
      alarm_topic_arn: this.monitoring.alarmTopic.arn,
      tenant_api_url: this.tenantApi.stage.invokeUrl,
      ...(this.firehose && { firehose_stream_name: this.firehose.stream.name }),
    };
    for (const [name, value] of Object.entries(outputs)) new TerraformOutput(this, name, { value });
  }
}
