import { gzipSync } from "node:zlib";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { cloudWatchLogsFactory } from "../../../functions/distributor/adapters/cloudwatch-logs";
import { contentTypeOf, S3ObjectWriter } from "../../../functions/distributor/adapters/s3-objects";
import { DeliveryEngine } from "../../../functions/distributor/engine";
import type { DestinationSession } from "../../../functions/distributor/ports";
import { CachedTenantConfigs } from "../../../functions/distributor/tenant-configs";
import { StsCredentialBroker } from "../../../functions/shared/sts-credential-broker";
import { s3Event } from "../../harness/factories";
import {
  cwConfig,
  FakeBroker,
  FakeConfigs,
  FakeObjects,
  FakeWriter,
  MemoryLedger,
  NOW,
} from "../../harness/fakes";
import { MemoryTelemetry } from "../../harness/memory-telemetry";

const session: DestinationSession = {
  credentials: { accessKeyId: "AK", secretAccessKey: "S" },
  region: "us-east-1",
  accountId: "111111111111",
  cacheKey: "k",
};

describe("StsCredentialBroker", () => {
  const request = {
    roleArn: "arn:aws:iam::111111111111:role/LogDistribution",
    externalId: "ext-acme",
    tenantId: "acme",
    clusterId: "c1",
    region: "us-east-1",
    sessionPolicy: '{"Version":"2012-10-17","Statement":[]}',
  };
  const credentials = (id: string, expiresInMs: number) => ({
    Credentials: {
      AccessKeyId: id,
      SecretAccessKey: "s",
      SessionToken: "t",
      Expiration: new Date(NOW + expiresInMs),
    },
  });

  it("assumes the central role, then the customer's role with ExternalId, tags and policy; caches both", async () => {
    const sts = mockClient(STSClient);
    sts
      .on(AssumeRoleCommand, { RoleArn: "arn:aws:iam::123456789012:role/central" })
      .resolves(credentials("CENTRAL", 3600_000));
    sts.on(AssumeRoleCommand, { RoleArn: request.roleArn }).resolves(credentials("CUSTOMER", 3600_000));
    let now = NOW;
    const broker = new StsCredentialBroker({
      region: "us-east-1",
      centralRoleArn: "arn:aws:iam::123456789012:role/central",
      now: () => now,
      stsClient: () => new STSClient({ region: "us-east-1" }),
    });

    const [first, second] = await Promise.all([
      broker.destinationSession(request),
      broker.destinationSession(request),
    ]);
    now += 50 * 60_000; // 50 minutes: still more than 5 minutes left
    await broker.destinationSession(request);

    expect(first.credentials.accessKeyId).toBe("CUSTOMER");
    expect(second).toBe(first);
    expect(first.accountId).toBe("111111111111");
    const calls = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({
      RoleArn: request.roleArn,
      ExternalId: "ext-acme",
      Policy: request.sessionPolicy,
      Tags: [
        { Key: "tenant_id", Value: "acme" },
        { Key: "cluster_id", Value: "c1" },
      ],
    });
    sts.restore();
  });

  it("refreshes a session shortly before it expires, and does not cache failures", async () => {
    const sts = mockClient(STSClient);
    sts
      .on(AssumeRoleCommand, { RoleArn: "arn:aws:iam::123456789012:role/central" })
      .resolves(credentials("C", 3600_000));
    sts
      .on(AssumeRoleCommand, { RoleArn: request.roleArn })
      .rejectsOnce(Object.assign(new Error("denied"), { name: "AccessDenied" }))
      .resolves(credentials("X", 600_000));
    let now = NOW;
    const broker = new StsCredentialBroker({
      region: "us-east-1",
      centralRoleArn: "arn:aws:iam::123456789012:role/central",
      now: () => now,
      stsClient: () => new STSClient({ region: "us-east-1" }),
    });

    await expect(broker.destinationSession(request)).rejects.toMatchObject({ name: "AccessDenied" });
    await broker.destinationSession(request);
    now += 6 * 60_000; // 4 minutes left: refresh
    await broker.destinationSession(request);

    expect(sts.commandCalls(AssumeRoleCommand, { RoleArn: request.roleArn })).toHaveLength(3);
    sts.restore();
  });
});

describe("S3ObjectWriter", () => {
  it("writes with ExpectedBucketOwner, bucket-owner-full-control and the metadata", async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    const writer = new S3ObjectWriter(() => new S3Client({ region: "us-east-1" }));
    async function* body() {
      yield Buffer.from("abc");
    }

    await writer.putObject(session, {
      bucket: "acme-archive",
      key: "logs/acme/c/a/p/f.log.gz",
      body: body(),
      contentLength: 3,
      expectedBucketOwner: "111111111111",
      metadata: { "logrelay-tenant-id": "acme" },
    });

    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: "acme-archive",
      Key: "logs/acme/c/a/p/f.log.gz",
      ExpectedBucketOwner: "111111111111",
      ACL: "bucket-owner-full-control",
      ContentLength: 3,
      ContentEncoding: "gzip",
      Metadata: { "logrelay-tenant-id": "acme" },
    });
    s3.restore();
  });
});

describe("contentTypeOf (the customer copy's type)", () => {
  it.each([
    ["acme/c/a/p/f.log.gz", undefined, "application/x-ndjson"],
    ["acme/c/a/p/f.parquet", undefined, "application/vnd.apache.parquet"],
    ["acme/c/a/p/f.parquet", "application/octet-stream", "application/vnd.apache.parquet"],
    ["acme/c/a/p/f.log.gz", "binary/octet-stream", "application/x-ndjson"],
    ["acme/c/a/p/f.log.gz", "application/json", "application/json"],
  ])("%s with source type %s -> %s", (key, source, expected) => {
    expect(contentTypeOf(key, source)).toBe(expected);
  });
});

describe("faults only a mock can make, through the real CloudWatch Logs client", () => {
  const KEY = "acme/c1/app/pod/1.log.gz";
  function engineWith(logs: CloudWatchLogsClient, maxAttempts = 4) {
    const objects = new FakeObjects();
    objects.objects.set(
      `central/${KEY}`,
      gzipSync(`${JSON.stringify({ message: "m", timestamp: NOW - 1 })}\n`),
    );
    const configs = new FakeConfigs();
    configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const sleeps: number[] = [];
    const clock = { now: NOW };
    const engine = new DeliveryEngine(
      {
        objects,
        configs: new CachedTenantConfigs(configs, 0),
        credentials: new FakeBroker(),
        cloudWatchLogs: cloudWatchLogsFactory(() => logs),
        objectWriter: new FakeWriter(),
        ledger: new MemoryLedger(() => clock.now),
        telemetry: new MemoryTelemetry(),
        now: () => clock.now,
      },
      {
        region: "us-east-1",
        retry: { maxAttempts, baseDelayMs: 10, maxDelayMs: 100 },
        messageBudgetMs: 5_000,
        retryHooks: {
          sleep: async (ms) => {
            sleeps.push(ms);
            clock.now += ms;
          },
        },
      },
    );
    return { engine, sleeps };
  }
  const deliver = (engine: DeliveryEngine) =>
    engine.processMessage(JSON.stringify(s3Event("central", KEY, { eventTime: new Date(NOW) })));

  it("retries ThrottlingException and a 500, then delivers", async () => {
    const cwl = mockClient(CloudWatchLogsClient);
    cwl
      .on(PutLogEventsCommand)
      .rejectsOnce(
        Object.assign(new Error("Rate exceeded"), {
          name: "ThrottlingException",
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .rejectsOnce(
        Object.assign(new Error("oops"), {
          name: "ServiceUnavailableException",
          $fault: "server",
          $metadata: { httpStatusCode: 500 },
        }),
      )
      .resolves({});
    const { engine, sleeps } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }));

    const result = await deliver(engine);

    expect(result.status).toBe("delivered");
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    cwl.restore();
  });

  it("a timeout on every attempt is retried until the time budget is spent, then left for SQS to retry", async () => {
    const cwl = mockClient(CloudWatchLogsClient);
    cwl.on(CreateLogStreamCommand).resolves({});
    cwl
      .on(PutLogEventsCommand)
      .rejects(Object.assign(new Error("Connection timed out after 3000 ms"), { name: "TimeoutError" }));
    const { engine, sleeps } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }), 3);

    const result = await deliver(engine);

    expect(result.status).toBe("failed_transient");
    expect(cwl.commandCalls(PutLogEventsCommand).length).toBeGreaterThan(3);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
    cwl.restore();
  });

  it("a connection reset is a transient error retried RETRY_MAX_ATTEMPTS times per call", async () => {
    const cwl = mockClient(CloudWatchLogsClient);
    cwl.on(CreateLogStreamCommand).resolves({});
    cwl.on(PutLogEventsCommand).rejects(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    const { engine } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }), 3);

    const result = await deliver(engine);

    expect(result.status).toBe("failed_transient");
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(3);
    cwl.restore();
  });

  it("creates an unknown stream before the first put (its group only when missing, tolerating a race), then remembers it", async () => {
    const cwl = mockClient(CloudWatchLogsClient);
    cwl.on(PutLogEventsCommand).resolves({});
    cwl
      .on(CreateLogStreamCommand)
      .rejectsOnce(Object.assign(new Error("no group"), { name: "ResourceNotFoundException" }))
      .resolves({});
    cwl
      .on(CreateLogGroupCommand)
      .rejects(Object.assign(new Error("exists"), { name: "ResourceAlreadyExistsException" }));
    const { engine } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }));

    const result = await deliver(engine);
    const again = await engine.processMessage(
      JSON.stringify(s3Event("central", KEY, { eventTime: new Date(NOW), eTag: "other-version" })),
    );

    expect(result.status).toBe("delivered");
    expect(again.status).toBe("delivered");
    expect(cwl.commandCalls(CreateLogStreamCommand)[0]!.args[0].input).toEqual({
      logGroupName: "/logs/acme",
      logStreamName: "c1/app/pod/2026-11-20",
    });
    // Known stream: the second object costs one PutLogEvents and nothing else.
    expect(cwl.commandCalls(CreateLogStreamCommand)).toHaveLength(2);
    expect(cwl.commandCalls(CreateLogGroupCommand)).toHaveLength(1);
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(2);
    cwl.restore();
  });

  it("a stream deleted behind our back is created again once", async () => {
    const cwl = mockClient(CloudWatchLogsClient);
    cwl.on(CreateLogStreamCommand).resolves({});
    cwl
      .on(PutLogEventsCommand)
      .rejectsOnce(Object.assign(new Error("no stream"), { name: "ResourceNotFoundException" }))
      .resolves({});
    const { engine } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }));

    const result = await deliver(engine);

    expect(result.status).toBe("delivered");
    expect(cwl.commandCalls(CreateLogStreamCommand)).toHaveLength(2);
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(2);
    cwl.restore();
  });
});
