import { s3Event } from "../../../../harness/factories";
import {
  BUCKET,
  cwConfig,
  fakeWorld,
  KEY,
  ndjson,
  notificationOf,
  s3Config,
} from "../../../../harness/fakes";

describe("DeliveryEngine", () => {
  it("delivers to CloudWatch through the tenant's role with its ExternalId, tenant and a narrow session policy (nothing per cluster)", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(notificationOf());

    expect(result.status).toBe("delivered");
    expect(w.broker.requests).toEqual([
      expect.objectContaining({
        roleArn: "arn:aws:iam::111111111111:role/LogDistribution",
        externalId: "ext-acme",
        tenantId: "acme",
        region: "us-east-1",
      }),
    ]);
    expect(Object.keys(w.broker.requests[0]!).sort()).toEqual([
      "externalId",
      "region",
      "roleArn",
      "sessionPolicy",
      "tenantId",
    ]);
    const policy = JSON.parse(w.broker.requests[0]!.sessionPolicy);
    expect(policy.Statement[0].Resource).toEqual([
      "arn:aws:logs:us-east-1:111111111111:log-group:/logs/acme",
      "arn:aws:logs:us-east-1:111111111111:log-group:/logs/acme:*",
    ]);
    expect(w.logs.batches).toHaveLength(1);
    expect(w.logs.batches[0]).toMatchObject({
      account: "111111111111",
      group: "/logs/acme",
      stream: "cluster-1/payment-service/payment-1/2026-11-20",
    });
    expect(w.telemetry.total("EventsDelivered", { tenant_id: "acme", destination: "cloudwatch" })).toBe(3);
    expect(w.telemetry.total("DeliveryLatency", { tenant_id: "acme" })).toBe(5000);
  });

  it("uses target_region for the session and the client", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111", { target_region: "eu-west-1" })]);

    await w.engine.processMessage(notificationOf());

    expect(w.broker.requests[0]!.region).toBe("eu-west-1");
  });

  it("copies to S3 under {prefix}{tenant}/{cluster}/{app}/{pod}/{file}, owner-checked, with traceability metadata", async () => {
    const w = fakeWorld();
    const body = ndjson(2);
    w.objects.objects.set(`${BUCKET}/${KEY}`, body);
    w.configs.items.set("acme", [s3Config("acme", "222222222222", { bucket_prefix: "logs/" })]);

    const result = await w.engine.processMessage(notificationOf());

    expect(result.status).toBe("delivered");
    expect(w.writer.puts).toHaveLength(1);
    const put = w.writer.puts[0]!;
    expect(put.request).toMatchObject({
      bucket: "acme-archive",
      key: `logs/${KEY}`,
      expectedBucketOwner: "222222222222",
      metadata: expect.objectContaining({ "logrelay-source-key": KEY, "logrelay-tenant-id": "acme" }),
    });
    expect(put.body).toEqual(body);
    expect(JSON.parse(w.broker.requests[0]!.sessionPolicy).Statement[0].Resource).toEqual([
      "arn:aws:s3:::acme-archive/logs/acme/*",
    ]);
  });

  it("an invalid config fails only itself; the tenant's other destinations still deliver", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(2));
    w.configs.items.set("acme", [
      cwConfig("acme", "111111111111", { log_group_name: "bad name with spaces" }),
      s3Config("acme", "111111111111"),
    ]);

    const result = await w.engine.processMessage(notificationOf());

    const [invalid, s3] = result.objects[0]!.destinations;
    expect(invalid).toMatchObject({ type: "cloudwatch", status: "failed_permanent" });
    expect(invalid!.reason).toMatch(/InvalidConfigError: log_group_name: log_group_name must be/);
    expect(s3!.status).toBe("delivered");
    expect(result.status).toBe("failed_permanent");
  });

  it("AccessDenied on the customer role parks that destination (acknowledged), not the others", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(2));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111"), s3Config("acme", "333333333333")]);
    w.broker.denyRoles.add("arn:aws:iam::111111111111:role/LogDistribution");

    const result = await w.engine.processMessage(notificationOf());

    const byType = Object.fromEntries(result.objects[0]!.destinations.map((d) => [d.type, d]));
    expect(byType.cloudwatch).toMatchObject({ status: "parked" });
    expect(byType.cloudwatch!.reason).toMatch(/CustomerRoleRefusedError: .*refused AssumeRole/);
    expect(byType.s3!.status).toBe("delivered");
    expect(result.status).toBe("parked");
    expect(w.telemetry.total("PermanentFailures")).toBe(0);
    expect(w.telemetry.total("ObjectsParked", { tenant_id: "acme", destination: "cloudwatch" })).toBe(1);
  });

  it("throttling is retried with backoff and then succeeds", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(2));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const throttle = () => Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    w.logs.faults.push(throttle(), throttle());

    const result = await w.engine.processMessage(notificationOf());

    expect(result.status).toBe("delivered");
    expect(w.sleeps).toEqual([50, 100]);
    expect(w.logs.eventsIn("111111111111", "/logs/acme")).toHaveLength(2);
  });

  it("a 5xx is retried by time, beyond RETRY_MAX_ATTEMPTS; one that outlasts the budget is a transient failure", async () => {
    const w = fakeWorld({ messageBudgetMs: 10_000 });
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(2));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    for (let i = 0; i < 100; i++) {
      w.logs.faults.push(
        Object.assign(new Error("boom"), {
          name: "ServiceUnavailableException",
          $metadata: { httpStatusCode: 503 },
        }),
      );
    }

    const result = await w.engine.processMessage(notificationOf());

    expect(result.status).toBe("failed_transient");
    expect(result.objects[0]!.reason).toMatch(/cloudwatch: ServiceUnavailableException/);
    // maxAttempts is 4: by count it would have stopped after 3 waits.
    expect(w.sleeps.length).toBeGreaterThan(10);
    expect(w.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000);
  });

  it("a config lookup failure is transient and nothing is delivered", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(2));
    w.configs.failWith = Object.assign(new Error("throughput"), {
      name: "ProvisionedThroughputExceededException",
    });

    const result = await w.engine.processMessage(notificationOf());

    expect(result.status).toBe("failed_transient");
    expect(result.objects[0]!.reason).toMatch(
      /reading the registry and configs: ProvisionedThroughputExceededException/,
    );
  });

  it("a missing staged object is a permanent failure", async () => {
    const w = fakeWorld();
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(notificationOf());

    expect(result.status).toBe("failed_permanent");
    expect(result.objects[0]!.reason).toMatch(/NotFound/);
  });

  it("a malformed message is acknowledged, logged whole with its reason, and counted", async () => {
    const w = fakeWorld();

    const result = await w.engine.processMessage("{not json", { message_id: "m-9" });

    expect(result).toMatchObject({ status: "failed_permanent", objects: [] });
    const line = w.telemetry.lines.find((l) => l.fields.message_id === "m-9")!;
    expect(line).toMatchObject({
      level: "error",
      fields: { body: "{not json", outcome: "failed_permanent" },
    });
    expect(w.telemetry.total("MalformedMessages")).toBe(1);
  });

  it("one bad key in a message does not stop the good record next to it", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const event = s3Event(BUCKET, "acme/../etc/passwd/x");
    event.Records.push(s3Event(BUCKET, KEY).Records[0]!);

    const result = await w.engine.processMessage(JSON.stringify(event));

    expect(result.objects.map((o) => o.status)).toEqual(["failed_permanent", "delivered"]);
    expect(w.logs.batches).toHaveLength(1);
  });

  it("tenant A's object never reaches tenant B's destinations", async () => {
    const w = fakeWorld();
    const keyB = "beta/cluster-1/payment-service/p/1.log.gz";
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(2));
    w.objects.objects.set(`${BUCKET}/${keyB}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.configs.items.set("beta", [cwConfig("beta", "222222222222")]);

    await w.engine.processMessage(notificationOf());
    await w.engine.processMessage(notificationOf(keyB));

    expect(w.logs.eventsIn("111111111111", "/logs/acme")).toHaveLength(2);
    expect(w.logs.eventsIn("222222222222", "/logs/beta")).toHaveLength(3);
    expect(new Set(w.logs.batches.map((b) => `${b.account}${b.group}`))).toEqual(
      new Set(["111111111111/logs/acme", "222222222222/logs/beta"]),
    );
  });

  it("a config whose tenant_id differs from the key's tenant is refused", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1));
    w.configs.items.set("acme", [cwConfig("beta", "222222222222")]);

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.destinations[0]!.status).toBe("failed_permanent");
    expect(w.logs.batches).toHaveLength(0);
  });
});
