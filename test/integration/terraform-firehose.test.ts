import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { BUILD_DIR } from "../../stacks/constructs/nodejs-function";
import { expectNoChanges, useAppliedEnvironment } from "../harness/applied-environment";
import { clientsFor, createBucket, documentClient, REGION, readLogGroup } from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { firehoseKey, parquetObject } from "../harness/factories";

const TENANT_ACCOUNT = "111111111111";
const TENANT_BUCKET = "acme-firehose-archive";

/**
 * The Firehose ingestion option (environments/local-firehose.json, Parquet format) applied into
 * the emulator. moto's Firehose neither partitions nor converts, so the objects Firehose would
 * write are fixtures in its real key layout; the rest is the deployed pipeline.
 */
describe("firehose ingestion environment applied into the emulator", () => {
  const env = useAppliedEnvironment("local-firehose", () => [
    { account: TENANT_ACCOUNT, name: TENANT_BUCKET },
  ]);

  it("creates the partitioned delivery stream and the cluster's role, and a second plan shows no changes", async () => {
    expect(env.out().regional.firehose_stream_name).toBe("logrelay-local-firehose-us-east-1-ingest");
    expect(env.ws().stacks.clusters).toEqual(["logrelay-local-firehose-cluster-local-cluster-1"]);
    await expectNoChanges(env.ws());
  }, 300_000);

  it("a Parquet object in Firehose's key layout is notified and delivered by the bundled Lambda handler", async () => {
    const out = env.out();
    const s3 = new S3Client({ region: REGION });
    const staging = out.regional.staging_bucket!;
    const tenant = await clientsFor(TENANT_ACCOUNT);
    await createBucket(tenant.s3, TENANT_BUCKET);
    const common = {
      tenant_id: "acme",
      log_distribution_role_arn: `arn:aws:iam::${TENANT_ACCOUNT}:role/logrelay/logrelay-log-distribution-acme`,
      external_id: "acme-firehose-ext-1",
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      version: 1,
    };
    const db = documentClient();
    await db.send(
      new PutCommand({
        TableName: out.regional.tenant_registry_table!,
        Item: { tenant_id: "acme", accounts: [TENANT_ACCOUNT] },
      }),
    );
    for (const item of [
      { ...common, type: "cloudwatch", log_group_name: "/logrelay/acme" },
      { ...common, type: "s3", bucket_name: TENANT_BUCKET, bucket_prefix: "firehose/" },
    ]) {
      await db.send(new PutCommand({ TableName: out.regional.tenant_config_table!, Item: item }));
    }
    const now = Date.now();
    const rows = [0, 1, 2].map((i) => ({
      message: `payment ${i} accepted`,
      timestamp: new Date(now - 60_000 + i * 1000).toISOString(),
      tenant_id: "acme",
      cluster_id: "local-cluster-1",
      application: "payment-service",
      pod_name: "pay-0",
      stream: "stdout",
    }));
    const segments = {
      tenant: "acme",
      cluster: "local-cluster-1",
      application: "payment-service",
      pod: "pay-0",
    };
    const key = firehoseKey(segments, ".parquet", out.regional.firehose_stream_name);
    const body = parquetObject(rows);
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: key, Body: body }));
    // Not notified in Parquet mode: the notification filters on the configured extension.
    await s3.send(
      new PutObjectCommand({ Bucket: staging, Key: firehoseKey(segments, ".gz"), Body: gzipSync("{}") }),
    );

    const notification = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: staging }));
    const rules = notification.TopicConfigurations?.[0]?.Filter?.Key?.FilterRules ?? [];
    expect(rules.map((r) => [r.Name?.toLowerCase(), r.Value])).toEqual([["suffix", ".parquet"]]);

    // What the event source mapping would hand the function: the queue's messages as an SQS event.
    const sqs = new SQSClient({ region: REGION });
    const queueUrl = out.regional.delivery_queue_url!;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const messages = received.Messages ?? [];
    // Exactly one object notification (an s3:TestEvent may come along, and is ignored by the handler).
    const objectNotifications = messages.filter((m) => !m.Body?.includes("s3:TestEvent"));
    expect(objectNotifications).toHaveLength(1);
    expect(objectNotifications[0]!.Body).toContain(encodeURIComponent("pay-0"));
    expect(objectNotifications[0]!.Body).toContain(".parquet");
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body!,
        attributes: m.Attributes as SQSEvent["Records"][number]["attributes"],
        messageAttributes: {},
        md5OfBody: m.MD5OfBody!,
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:logrelay-local-firehose-us-east-1-delivery`,
        awsRegion: REGION,
      })),
    };
    // The zip's code, as synthesized for this environment, with the function's settings.
    Object.assign(process.env, {
      TENANT_CONFIG_TABLE: out.regional.tenant_config_table,
      TENANT_REGISTRY_TABLE: out.regional.tenant_registry_table,
      DELIVERY_LEDGER_TABLE: out.regional.delivery_ledger_table,
      CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: out.regional.central_log_distribution_role_arn,
      POWERTOOLS_SERVICE_NAME: "logrelay-distributor",
      POWERTOOLS_METRICS_DISABLED: "true",
      POWERTOOLS_LOG_LEVEL: "ERROR",
    });
    const bundled = require(join(BUILD_DIR, out.regional.distributor_function!, "index.js")) as {
      handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
    };
    const context = {
      functionName: out.regional.distributor_function,
      awsRequestId: "req-1",
      getRemainingTimeInMillis: () => 60_000,
    } as unknown as Context;

    const response = await bundled.handler(event, context);

    expect(response).toEqual({ batchItemFailures: [] });
    for (const m of messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    const group = await readLogGroup(tenant.logs, "/logrelay/acme");
    const day = new Date(now).toISOString().slice(0, 10);
    expect(Object.keys(group ?? {})).toEqual([`local-cluster-1/payment-service/pay-0/${day}`]);
    expect(
      Object.values(group ?? {})
        .flat()
        .map((e) => e.message),
    ).toEqual(rows.map((r) => r.message));
    const copy = await tenant.s3.send(
      new GetObjectCommand({ Bucket: TENANT_BUCKET, Key: `firehose/${key}` }),
    );
    expect(copy.ContentType).toBe("application/vnd.apache.parquet");
    expect(Buffer.from(await copy.Body!.transformToByteArray()).equals(body)).toBe(true);
  }, 120_000);

  it("`logrelay firehose redrive` re-puts error-output records into the deployed stream, then deletes them", async () => {
    const out = env.out();
    const s3 = new S3Client({ region: REGION });
    const staging = out.regional.staging_bucket!;
    const records = [1, 2].map((i) => ({
      message: `lost ${i}`,
      tenant_id: "acme",
      cluster_id: "local-cluster-1",
    }));
    const errorKey = "_firehose-errors/activePartitionExceeded/2026/11/22/ingest-1-2026-11-22-10-15-30-u";
    const lines = records.map((r) =>
      JSON.stringify({
        attemptsMade: 1,
        arrivalTimestamp: Date.now(),
        errorCode: "DynamicPartitioning.ActivePartitionsLimitExceeded",
        errorMessage: "Active partitions limit exceeded",
        rawData: Buffer.from(JSON.stringify(r)).toString("base64"),
      }),
    );
    // One line that is no error record: kept with its reason, so the object is finished once.
    await s3.send(
      new PutObjectCommand({
        Bucket: staging,
        Key: errorKey,
        Body: `${lines.join("\n")}\nnot an error record\n`,
      }),
    );

    const {
      code,
      out: stdout,
      err,
    } = await runCaptured(
      [
        "firehose",
        "redrive",
        "--bucket",
        staging,
        "--stream",
        out.regional.firehose_stream_name!,
        "--error-type",
        "activePartitionExceeded",
        "--delete",
      ],
      process.env,
    );

    expect([code, err]).toEqual([0, `${errorKey}: 2/2 record(s)\n`]);
    expect(stdout).toMatch(/_firehose-errors\/activePartitionExceeded\/.+\s+2\s+2\s+0\s+1\s+yes/);
    await expect(s3.send(new HeadObjectCommand({ Bucket: staging, Key: errorKey }))).rejects.toThrow();
    const unusable = await s3.send(
      new GetObjectCommand({
        Bucket: staging,
        Key: "_firehose-unusable/activePartitionExceeded/2026/11/22/ingest-1-2026-11-22-10-15-30-u.jsonl",
      }),
    );
    expect(JSON.parse(await unusable.Body!.transformToString())).toMatchObject({
      line: 3,
      reason: "not JSON",
      text: "not an error record",
    });
    // moto's Firehose writes what it receives, unpartitioned, under the literal prefix.
    const written = await s3.send(
      new ListObjectsV2Command({ Bucket: staging, Prefix: "!{partitionKeyFromQuery:" }),
    );
    const bodies = await Promise.all(
      (written.Contents ?? []).map(async (o) =>
        (await s3.send(new GetObjectCommand({ Bucket: staging, Key: o.Key }))).Body!.transformToString(),
      ),
    );
    expect(bodies.join("")).toContain(records.map((r) => JSON.stringify(r)).join(""));
  }, 120_000);
});
