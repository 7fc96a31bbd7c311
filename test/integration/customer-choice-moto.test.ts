import { gunzipSync, gzipSync } from "node:zlib";
import { CreateDeliveryStreamCommand, FirehoseClient } from "@aws-sdk/client-firehose";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import {
  accountCredentials,
  CENTRAL_ACCOUNT,
  clientsFor,
  createBucket,
  distributorEnv,
  distributorTables,
  putConfig,
  putObject,
  REGION,
  readLogGroup,
} from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { useMoto } from "../harness/moto-suite";

/**
 * A customer's filter and redaction, end to end through `logrelay deliver` against the emulator:
 * the same staged object to CloudWatch Logs, an S3 bucket and a Firehose stream (moto writes its
 * records into the stream's S3 destination at once), all in the customer's account.
 */
const STAGING = "logrelay-choice-staging";
const CONFIG_TABLE = "choice-configs";
const REGISTRY_TABLE = "choice-registry";
const LEDGER_TABLE = "choice-ledger";
const ACCOUNT = "444455556666";
const TENANT = "acme";
const GROUP = "/logrelay/acme/app";
const ARCHIVE = "acme-archive";
const FIREHOSE_OUT = "acme-firehose-out";
const STREAM = "acme-splunk";
const STREAM_ARN = `arn:aws:firehose:us-east-1:${ACCOUNT}:deliverystream/${STREAM}`;
const KEY = `${TENANT}/rosa-1/payment-service/pod-1/1763632800-choice.log.gz`;

const rules = {
  filter: {
    exclude: [
      { field: "message", regex: "GET /healthz" },
      { field: "message.level", in: ["debug", "trace"] },
    ],
  },
  redact: ["email", "ipv4", "aws_access_key", "credit_card", "bearer_token"],
};

const PII = [
  "jane.doe@example.com",
  "ops@example.org",
  "10.20.30.40",
  "192.168.1.7",
  "AKIAIOSFODNN7EXAMPLE",
  "4111 1111 1111 1111",
  "eyJhbGciOiJIUzI1NiJ9.payload.sig",
];
const at = (i: number) => new Date(Date.now() - 60_000 + i).toISOString();
const record = (i: number, message: string) => ({
  message,
  timestamp: at(i),
  kubernetes: { pod_name: "pod-1", pod_namespace: "payments" },
});
const LINES = [
  record(0, "GET /healthz 200 1ms"),
  record(1, "payment accepted for order 1"),
  record(2, '{"level":"debug","msg":"cache miss"}'),
  record(3, `login by ${PII[0]} from ${PII[2]}`),
  record(4, "GET /healthz 200 2ms"),
  record(5, `key ${PII[4]} used by ${PII[1]}`),
  record(6, '{"level":"trace","msg":"enter"}'),
  record(7, `charged card ${PII[5]} from ${PII[3]}`),
  record(8, `Authorization: Bearer ${PII[6]}`),
  record(9, '{"level":"info","msg":"payment settled"}'),
];
/** What the rules do to the lines above. */
const EXCLUDED = [0, 2, 4, 6];
const UNTOUCHED = [1, 9];
const REDACTIONS = { email: 2, ipv4: 2, aws_access_key: 1, credit_card: 1, bearer_token: 1 };

async function textOf(s3: S3Client, bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const bodies: string[] = [];
  for (const o of listed.Contents ?? []) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    bodies.push((o.Key!.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8"));
  }
  return bodies;
}

const linesIn = (bodies: string[]) => bodies.flatMap((b) => b.split("\n").filter((l) => l.length > 0));

describe("filters and redaction, delivered by the CLI to CloudWatch, S3 and Firehose", () => {
  useMoto();

  beforeAll(async () => {
    await distributorTables(
      { config: CONFIG_TABLE, registry: REGISTRY_TABLE, ledger: LEDGER_TABLE, staging: STAGING },
      { [TENANT]: [ACCOUNT] },
    );
    const customer = await clientsFor(ACCOUNT);
    await createBucket(customer.s3, ARCHIVE);
    await createBucket(customer.s3, FIREHOSE_OUT);
    await new FirehoseClient({ region: REGION, credentials: await accountCredentials(ACCOUNT) }).send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: STREAM,
        DeliveryStreamType: "DirectPut",
        ExtendedS3DestinationConfiguration: {
          BucketARN: `arn:aws:s3:::${FIREHOSE_OUT}`,
          RoleARN: `arn:aws:iam::${ACCOUNT}:role/firehose-delivery`,
        },
      }),
    );
    const common = {
      tenant_id: TENANT,
      log_distribution_role_arn: `arn:aws:iam::${ACCOUNT}:role/logrelay/logrelay-log-distribution-acme`,
      external_id: "ext-acme-choice",
      ...rules,
    };
    await putConfig(CONFIG_TABLE, { ...common, type: "cloudwatch", log_group_name: GROUP });
    await putConfig(CONFIG_TABLE, { ...common, type: "s3", bucket_name: ARCHIVE, bucket_prefix: "logs/" });
    await putConfig(CONFIG_TABLE, { ...common, type: "firehose", delivery_stream_arn: STREAM_ARN });
    await putObject(
      (await clientsFor(CENTRAL_ACCOUNT)).s3,
      STAGING,
      KEY,
      gzipSync(`${LINES.map((l) => JSON.stringify(l)).join("\n")}\n`),
    );
  }, 120_000);

  const deliver = () =>
    runCaptured(
      ["deliver", "--bucket", STAGING, "--key", KEY, "--output", "json"],
      distributorEnv({ config: CONFIG_TABLE, registry: REGISTRY_TABLE, ledger: LEDGER_TABLE }),
    );

  it("excluded events reach no destination, no PII string reaches any, the rest is as it was; counts say what was removed", async () => {
    const run = await deliver();
    expect([run.code, run.err.split("\n").filter((l) => l.startsWith("logrelay:"))]).toEqual([0, []]);
    const destinations = JSON.parse(run.out)[0].objects[0].destinations as Record<string, unknown>[];
    expect(destinations.map((d) => d.type).sort()).toEqual(["cloudwatch", "firehose", "s3"]);
    for (const d of destinations)
      expect(d).toMatchObject({
        status: "delivered",
        events_delivered: 6,
        events_filtered: 4,
        filtered: { "exclude.0": 2, "exclude.1": 2 },
        redactions: REDACTIONS,
      });

    const customer = await clientsFor(ACCOUNT);
    const cloudwatch = Object.values((await readLogGroup(customer.logs, GROUP)) ?? {})
      .flat()
      .map((e) => e.message);
    const archivedLines = linesIn(await textOf(customer.s3, ARCHIVE));
    const streamedLines = linesIn(await textOf(customer.s3, FIREHOSE_OUT));
    const archived = archivedLines.map((l) => JSON.parse(l));
    const streamed = streamedLines.map((l) => JSON.parse(l));

    const kept = LINES.filter((_, i) => !EXCLUDED.includes(i));
    expect(cloudwatch).toHaveLength(kept.length);
    expect(archived).toHaveLength(kept.length);
    expect(streamed).toHaveLength(kept.length);
    for (const text of [JSON.stringify(cloudwatch), JSON.stringify(archived), JSON.stringify(streamed)]) {
      for (const pii of PII) expect(text).not.toContain(pii);
      for (const i of EXCLUDED) expect(text).not.toContain(LINES[i]!.message.replace(/"/g, '\\"'));
    }
    // What no rule touched arrives byte for byte: the message in CloudWatch, the staged line elsewhere.
    for (const i of UNTOUCHED) {
      expect(cloudwatch).toContain(LINES[i]!.message);
      expect(archivedLines).toContain(JSON.stringify(LINES[i]));
      expect(streamedLines).toContain(JSON.stringify(LINES[i]));
    }
    expect(streamed).toContainEqual({
      ...LINES[3],
      message: "login by [REDACTED:email] from [REDACTED:ipv4]",
    });
    expect(cloudwatch).toContain("charged card [REDACTED:credit_card] from [REDACTED:ipv4]");
  }, 120_000);

  it("the same notification again adds no Firehose record, no event and no object", async () => {
    const customer = await clientsFor(ACCOUNT);
    const before = linesIn(await textOf(customer.s3, FIREHOSE_OUT)).length;
    const objectsBefore = (await textOf(customer.s3, ARCHIVE)).length;

    const again = await deliver();

    expect(again.code).toBe(0);
    const destinations = JSON.parse(again.out)[0].objects[0].destinations as { status: string }[];
    expect(destinations.map((d) => d.status)).toEqual([
      "already_delivered",
      "already_delivered",
      "already_delivered",
    ]);
    expect(linesIn(await textOf(customer.s3, FIREHOSE_OUT))).toHaveLength(before);
    expect(await textOf(customer.s3, ARCHIVE)).toHaveLength(objectsBefore);
    const events = Object.values((await readLogGroup(customer.logs, GROUP)) ?? {}).flat();
    expect(events).toHaveLength(6);
  }, 120_000);
});
