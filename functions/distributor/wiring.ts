import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AwsDestinationValidator } from "../shared/destination-checks";
import { StsCredentialBroker } from "../shared/sts-credential-broker";
import { cloudWatchLogsFactory } from "./adapters/cloudwatch-logs";
import {
  DynamoDbConfigSource,
  DynamoDbDeliveryLedger,
  DynamoDbRegistrySource,
  NoLedger,
} from "./adapters/dynamodb";
import { DynamoDbParkingStore } from "./adapters/dynamodb-parking";
import { DynamoDbPulseStore } from "./adapters/dynamodb-pulse";
import { firehoseFactory } from "./adapters/firehose";
import { PowertoolsTelemetry } from "./adapters/powertools-telemetry";
import { S3ObjectSource, S3ObjectWriter, S3StagingExpiry } from "./adapters/s3-objects";
import { LogNotifier, SnsNotifier } from "./adapters/sns-notifier";
import { CachedRegistry, CachedTenantConfigs } from "./admission/tenant-configs";
import { PUT_LOG_EVENTS_LIMITS as PUT_LIMITS } from "./delivery/destinations/cloudwatch/batching";
import { DeliveryEngine } from "./delivery/engine";
import { Parking } from "./parking/parking";
import { ParkedRecovery } from "./parking/recovery";
import { ParkedRedelivery } from "./parking/redelivery";
import type { PulseStore, Telemetry } from "./ports";
import { HeartbeatPulse } from "./reporting/heartbeats";
import { TenantMeteredTelemetry } from "./reporting/tenant-metering";
import type { DistributorSettings } from "./settings";

export interface Distributor {
  readonly engine: DeliveryEngine;
  /** Probes and recovers parked destinations; undefined without a durable ledger (nothing is parked). */
  readonly recovery?: ParkedRecovery;
  readonly parking?: Parking;
  /** Each cluster's pulse; undefined without a durable ledger. */
  readonly pulses?: PulseStore;
  readonly telemetry: Telemetry;
}

/** The delivery engine alone (deliver runs, the worker, the Lambda's SQS path). */
export const createEngine = (settings: DistributorSettings, telemetry?: Telemetry): DeliveryEngine =>
  createDistributor(settings, telemetry).engine;

/**
 * The only place that builds AWS clients for the distributor, once per process.
 * Destination calls (S3 get/put, PutLogEvents) use the engine's retry policy, so their clients
 * make one attempt each; STS, DynamoDB and SQS keep the SDK's standard retry.
 */
export function createDistributor(settings: DistributorSettings, telemetry?: Telemetry): Distributor {
  const region = settings.AWS_REGION;
  const tel = new TenantMeteredTelemetry(
    telemetry ??
      new PowertoolsTelemetry({
        serviceName: settings.POWERTOOLS_SERVICE_NAME,
        namespace: settings.METRICS_NAMESPACE,
        logLevel: settings.POWERTOOLS_LOG_LEVEL,
      }),
    settings.TENANT_METRICS,
    settings.METERED_TENANTS,
  );
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const ledger = settings.DELIVERY_LEDGER_TABLE
    ? new DynamoDbDeliveryLedger(db, settings.DELIVERY_LEDGER_TABLE, settings.LEDGER_TTL_DAYS)
    : new NoLedger();
  if (!ledger.durable) {
    tel.log("warn", "DELIVERY_LEDGER_TABLE is not set: a retried message may deliver its events twice");
  }
  const configs = new CachedTenantConfigs(
    new DynamoDbConfigSource(db, settings.TENANT_CONFIG_TABLE),
    settings.CONFIG_CACHE_TTL_SECONDS * 1000,
  );
  const objects = new S3ObjectSource(new S3Client({ region, maxAttempts: 1 }));
  const credentials = new StsCredentialBroker({
    region,
    centralRoleArn: settings.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN,
  });
  const stagingBucket = settings.STAGING_BUCKETS?.[0];
  const parking = settings.DELIVERY_LEDGER_TABLE
    ? new Parking(
        new DynamoDbParkingStore(db, settings.DELIVERY_LEDGER_TABLE, settings.LEDGER_TTL_DAYS),
        settings.ALARM_TOPIC_ARN
          ? new SnsNotifier(new SNSClient({ region }), settings.ALARM_TOPIC_ARN)
          : new LogNotifier(tel),
        tel,
        {
          stagingExpiry: new S3StagingExpiry(new S3Client({ region })),
          ...(stagingBucket && { stagingBucket }),
        },
      )
    : undefined;
  const pulses = settings.DELIVERY_LEDGER_TABLE
    ? new DynamoDbPulseStore(db, settings.DELIVERY_LEDGER_TABLE, settings.LEDGER_TTL_DAYS)
    : undefined;
  const pulse = pulses && new HeartbeatPulse(pulses, tel);
  const engine = new DeliveryEngine(
    {
      objects,
      configs,
      registry: new CachedRegistry(
        new DynamoDbRegistrySource(db, settings.TENANT_REGISTRY_TABLE),
        settings.CONFIG_CACHE_TTL_SECONDS * 1000,
        (tenant_id, problems) =>
          tel.log("error", "invalid tenant registration: treated as none", { tenant_id, problems }),
      ),
      credentials,
      cloudWatchLogs: cloudWatchLogsFactory(
        (s) => new CloudWatchLogsClient({ region: s.region, credentials: s.credentials, maxAttempts: 1 }),
      ),
      firehose: firehoseFactory(
        (s) => new FirehoseClient({ region: s.region, credentials: s.credentials, maxAttempts: 1 }),
      ),
      objectWriter: new S3ObjectWriter(
        (s) => new S3Client({ region: s.region, credentials: s.credentials, maxAttempts: 1 }),
      ),
      ledger,
      telemetry: tel,
      ...(parking && { parking }),
      ...(pulse && { heartbeats: { tenantId: settings.HEARTBEAT_TENANT, pulse } }),
    },
    {
      region,
      retry: {
        maxAttempts: settings.RETRY_MAX_ATTEMPTS,
        baseDelayMs: settings.RETRY_BASE_DELAY_MS,
        maxDelayMs: settings.RETRY_MAX_DELAY_MS,
      },
      limits: { ...PUT_LIMITS, maxEventBytes: settings.MAX_EVENT_BYTES },
      claimLeaseMs: settings.CLAIM_LEASE_SECONDS * 1000,
      logGroupRetentionDays: settings.LOG_GROUP_RETENTION_DAYS,
      ...(settings.STAGING_BUCKETS && { stagingBuckets: settings.STAGING_BUCKETS }),
      messageBudgetMs: settings.MESSAGE_BUDGET_SECONDS * 1000,
      objectLimits: {
        maxObjectBytes: settings.MAX_OBJECT_BYTES,
        maxCompressionRatio: settings.MAX_COMPRESSION_RATIO,
      },
    },
  );
  const recovery =
    parking &&
    new ParkedRecovery(
      new ParkedRedelivery(engine),
      parking,
      new AwsDestinationValidator(credentials, region, settings.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN),
      configs,
      objects,
      tel,
      region,
    );
  return {
    engine,
    telemetry: tel,
    ...(parking && { parking }),
    ...(recovery && { recovery }),
    ...(pulses && { pulses }),
  };
}
