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
  FakeObjects,
  FakeRegistry,
  FakeWriter,
  MemoryLedger,
  NOW,
} from "../../../../harness/fakes";
import { MemoryTelemetry } from "../../../../harness/memory-telemetry";

describe("faults only a mock can make, through the real CloudWatch Logs client", () => {
  const cwl = mockClient(CloudWatchLogsClient);
  afterEach(() => cwl.reset());
  afterAll(() => cwl.restore());
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

  it("creates an unknown stream before the first put (its group only when missing, tolerating a race), then remembers it", async () => {
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
    // The group was the customer's own (it already existed): its retention is theirs.
    expect(cwl.commandCalls(PutRetentionPolicyCommand)).toHaveLength(0);
  });

  it("a group it creates gets the config's retention and KMS key (else the environment's retention) and tags", async () => {
    cwl.on(PutLogEventsCommand).resolves({});
    cwl.on(CreateLogGroupCommand).resolves({});
    cwl.on(PutRetentionPolicyCommand).resolves({});
    cwl
      .on(CreateLogStreamCommand)
      .rejectsOnce(Object.assign(new Error("no group"), { name: "ResourceNotFoundException" }))
      .resolves({});
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
  });

  it("a stream deleted behind our back is created again once", async () => {
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
  });
});
