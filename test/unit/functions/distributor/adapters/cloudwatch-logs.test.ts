import { gzipSync } from "node:zlib";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { mockClient } from "aws-sdk-client-mock";
import { cloudWatchLogsFactory } from "../../../../../functions/distributor/adapters/cloudwatch-logs";
import {
  CachedRegistry,
  CachedTenantConfigs,
} from "../../../../../functions/distributor/admission/tenant-configs";
import { DeliveryEngine } from "../../../../../functions/distributor/delivery/engine";
import { s3Event } from "../../../../harness/factories";
import {
  cwConfig,
  FakeBroker,
  FakeConfigs,
  FakeFirehose,
  FakeObjects,
  FakeRegistry,
  FakeWriter,
  MemoryLedger,
  NOW,
} from "../../../../harness/fakes";
import { MemoryTelemetry } from "../../../../harness/memory-telemetry";

const cwl = mockClient(CloudWatchLogsClient);
afterEach(() => cwl.reset());
afterAll(() => cwl.restore());

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
        registry: new CachedRegistry(new FakeRegistry(configs), 0),
        credentials: new FakeBroker(),
        cloudWatchLogs: cloudWatchLogsFactory(() => logs),
        firehose: new FakeFirehose().factory,
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
    return { engine, sleeps, configs };
  }
  const deliver = (engine: DeliveryEngine) =>
    engine.processMessage(JSON.stringify(s3Event("central", KEY, { eventTime: new Date(NOW) })));

  it("retries ThrottlingException and a 500, then delivers", async () => {
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
  });

  it("a timeout on every attempt is retried until the time budget is spent, then left for SQS to retry", async () => {
    cwl.on(CreateLogStreamCommand).resolves({});
    cwl
      .on(PutLogEventsCommand)
      .rejects(Object.assign(new Error("Connection timed out after 3000 ms"), { name: "TimeoutError" }));
    const { engine, sleeps } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }), 3);

    const result = await deliver(engine);

    expect(result.status).toBe("failed_transient");
    expect(cwl.commandCalls(PutLogEventsCommand).length).toBeGreaterThan(3);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
  });

  it("a connection reset is a transient error retried RETRY_MAX_ATTEMPTS times per call", async () => {
    cwl.on(CreateLogStreamCommand).resolves({});
    cwl.on(PutLogEventsCommand).rejects(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    const { engine } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }), 3);

    const result = await deliver(engine);

    expect(result.status).toBe("failed_transient");
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(3);
  });

  const exists = () => Object.assign(new Error("exists"), { name: "ResourceAlreadyExistsException" });
  const missing = (what: string) =>
    Object.assign(new Error(`The specified ${what} does not exist.`), { name: "ResourceNotFoundException" });

  it("in a group that was there, puts first and creates the stream only if the put says it is missing; then remembers it", async () => {
    cwl.on(CreateLogGroupCommand).rejects(exists());
    cwl.on(CreateLogStreamCommand).resolves({});
    cwl.on(PutLogEventsCommand).rejectsOnce(missing("log stream")).resolves({});
    const { engine } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }));

    const result = await deliver(engine);
    const again = await engine.processMessage(
      JSON.stringify(s3Event("central", KEY, { eventTime: new Date(NOW), eTag: "other-version" })),
    );

    expect(result.status).toBe("delivered");
    expect(again.status).toBe("delivered");
    expect(cwl.commandCalls(CreateLogStreamCommand).map((c) => c.args[0].input)).toEqual([
      { logGroupName: "/logs/acme", logStreamName: "c1/app/pod/2026-11-20" },
    ]);
    // Known stream: the second object costs one PutLogEvents and nothing else.
    expect(cwl.commandCalls(CreateLogGroupCommand)).toHaveLength(1);
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(3);
    // The group was the customer's own (it already existed): its retention is theirs.
    expect(cwl.commandCalls(PutRetentionPolicyCommand)).toHaveLength(0);
  });

  it("a stream another process created costs no creation call: the first put succeeds", async () => {
    cwl.on(CreateLogGroupCommand).rejects(exists());
    cwl.on(PutLogEventsCommand).resolves({});
    const { engine } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }));

    expect((await deliver(engine)).status).toBe("delivered");
    expect(cwl.commandCalls(CreateLogStreamCommand)).toHaveLength(0);
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(1);
  });

  it("a group it creates gets the config's retention, KMS key and tags, and its new stream is created before the first put", async () => {
    cwl.on(PutLogEventsCommand).resolves({});
    cwl.on(CreateLogGroupCommand).resolves({});
    cwl.on(PutRetentionPolicyCommand).resolves({});
    cwl.on(CreateLogStreamCommand).resolves({});
    const key = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const { engine, configs } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }));
    configs.items.set("acme", [cwConfig("acme", "111111111111", { retention_days: 90, kms_key_arn: key })]);

    expect((await deliver(engine)).status).toBe("delivered");

    expect(cwl.commandCalls(CreateLogGroupCommand)[0]!.args[0].input).toEqual({
      logGroupName: "/logs/acme",
      kmsKeyId: key,
      tags: { "managed-by": "logrelay", "logrelay:tenant": "acme" },
    });
    expect(cwl.commandCalls(PutRetentionPolicyCommand).map((c) => c.args[0].input)).toEqual([
      { logGroupName: "/logs/acme", retentionInDays: 90 },
    ]);
    // Nothing failed: group, retention, stream, put.
    expect(cwl.commandCalls(CreateLogStreamCommand)).toHaveLength(1);
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(1);
  });

  it("a stream, or its whole group, deleted behind our back is created again once", async () => {
    cwl.on(CreateLogGroupCommand).resolvesOnce({}).resolves({});
    cwl.on(PutRetentionPolicyCommand).resolves({});
    cwl.on(CreateLogStreamCommand).resolvesOnce({}).rejectsOnce(missing("log group")).resolves({});
    cwl.on(PutLogEventsCommand).resolvesOnce({}).rejectsOnce(missing("log group")).resolves({});
    const { engine } = engineWith(new CloudWatchLogsClient({ region: "us-east-1" }));

    expect((await deliver(engine)).status).toBe("delivered");
    const again = await engine.processMessage(
      JSON.stringify(s3Event("central", KEY, { eventTime: new Date(NOW), eTag: "other-version" })),
    );

    expect(again.status).toBe("delivered");
    expect(cwl.commandCalls(CreateLogGroupCommand)).toHaveLength(2);
    expect(cwl.commandCalls(CreateLogStreamCommand)).toHaveLength(3);
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(3);
  });
});

describe("creation never races: each group and stream once per process, at any concurrency", () => {
  const settings = { tags: {}, retentionDays: 30 };
  const session = (accessKeyId: string) =>
    ({
      region: "us-east-1",
      accountId: "111111111111",
      cacheKey: "acme",
      credentials: { accessKeyId, secretAccessKey: "s" },
    }) as never;

  it("64 concurrent first puts to one new stream: one CreateLogGroup, one retention, one CreateLogStream, no failures", async () => {
    const slow = <T>(value: T) => new Promise<T>((r) => setTimeout(() => r(value), 20));
    cwl.on(CreateLogGroupCommand).callsFake(() => slow({}));
    cwl.on(PutRetentionPolicyCommand).callsFake(() => slow({}));
    cwl.on(CreateLogStreamCommand).callsFake(() => slow({}));
    cwl.on(PutLogEventsCommand).callsFake(() => slow({}));
    const factory = cloudWatchLogsFactory(() => new CloudWatchLogsClient({ region: "us-east-1" }));
    const logs = factory(session("AKIA1"));

    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        logs.putLogEvents("/logs/acme", i % 2 ? "s1" : "s2", [{ timestamp: NOW, message: "m" }], settings),
      ),
    );

    expect(cwl.commandCalls(CreateLogGroupCommand)).toHaveLength(1);
    expect(cwl.commandCalls(PutRetentionPolicyCommand)).toHaveLength(1);
    expect(cwl.commandCalls(CreateLogStreamCommand)).toHaveLength(2);
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(64);
  });

  it("renewed credentials (a new client) keep what the process knows: no second creation", async () => {
    cwl.on(CreateLogGroupCommand).resolves({});
    cwl.on(PutRetentionPolicyCommand).resolves({});
    cwl.on(CreateLogStreamCommand).resolves({});
    cwl.on(PutLogEventsCommand).resolves({});
    const factory = cloudWatchLogsFactory(() => new CloudWatchLogsClient({ region: "us-east-1" }));

    await factory(session("AKIA1")).putLogEvents(
      "/logs/acme",
      "s",
      [{ timestamp: NOW, message: "m" }],
      settings,
    );
    await factory(session("AKIA2")).putLogEvents(
      "/logs/acme",
      "s",
      [{ timestamp: NOW, message: "m" }],
      settings,
    );

    expect(cwl.commandCalls(CreateLogGroupCommand)).toHaveLength(1);
    expect(cwl.commandCalls(CreateLogStreamCommand)).toHaveLength(1);
    expect(cwl.commandCalls(PutLogEventsCommand)).toHaveLength(2);
  });

  it("a failed creation is not kept: the next caller tries again", async () => {
    cwl
      .on(CreateLogGroupCommand)
      .rejectsOnce(Object.assign(new Error("slow down"), { name: "ThrottlingException" }))
      .resolves({});
    cwl.on(PutRetentionPolicyCommand).resolves({});
    cwl.on(CreateLogStreamCommand).resolves({});
    cwl.on(PutLogEventsCommand).resolves({});
    const logs = cloudWatchLogsFactory(() => new CloudWatchLogsClient({ region: "us-east-1" }))(
      session("AKIA1"),
    );
    const put = () => logs.putLogEvents("/logs/acme", "s", [{ timestamp: NOW, message: "m" }], settings);

    await expect(put()).rejects.toMatchObject({ name: "ThrottlingException" });
    await put();
    expect(cwl.commandCalls(CreateLogGroupCommand)).toHaveLength(2);
  });
});
