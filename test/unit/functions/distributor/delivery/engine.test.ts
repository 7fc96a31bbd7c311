import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { rejectedCount } from "../../../../../functions/distributor/delivery/destinations/cloudwatch/cloudwatch";
import { firehoseKey, parquetObject, s3Event, snsEnvelope } from "../../../../harness/factories";
import { cwConfig, fakeWorld, NOW, s3Config } from "../../../../harness/fakes";

const BUCKET = "logrelay-central";
const KEY = "acme/cluster-1/payment-service/payment-1/1763632800-u.log.gz";

function ndjson(n: number, start = NOW - 60_000, size = 20) {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      message: `event-${i}-${"x".repeat(size)}`,
      timestamp: new Date(start + i).toISOString(),
    }),
  );
  return gzipSync(`${lines.join("\n")}\n`);
}

function message(key = KEY) {
  return JSON.stringify(snsEnvelope(s3Event(BUCKET, key, { eventTime: new Date(NOW - 5000) })));
}

describe("DeliveryEngine", () => {
  it("delivers to CloudWatch through the tenant's role with its ExternalId, tenant and a narrow session policy (nothing per cluster)", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(message());

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

    await w.engine.processMessage(message());

    expect(w.broker.requests[0]!.region).toBe("eu-west-1");
  });

  it("copies to S3 under {prefix}{tenant}/{cluster}/{app}/{pod}/{file}, owner-checked, with traceability metadata", async () => {
    const w = fakeWorld();
    const body = ndjson(2);
    w.objects.objects.set(`${BUCKET}/${KEY}`, body);
    w.configs.items.set("acme", [s3Config("acme", "222222222222", { bucket_prefix: "logs/" })]);

    const result = await w.engine.processMessage(message());

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

    const result = await w.engine.processMessage(message());

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

    const result = await w.engine.processMessage(message());

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

    const result = await w.engine.processMessage(message());

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

    const result = await w.engine.processMessage(message());

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

    const result = await w.engine.processMessage(message());

    expect(result.status).toBe("failed_transient");
    expect(result.objects[0]!.reason).toMatch(
      /reading the registry and configs: ProvisionedThroughputExceededException/,
    );
  });

  it("a missing staged object is a permanent failure", async () => {
    const w = fakeWorld();
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(message());

    expect(result.status).toBe("failed_permanent");
    expect(result.objects[0]!.reason).toMatch(/NotFound/);
  });

  describe("objects written by Firehose (the ingestion option)", () => {
    const segments = { tenant: "acme", cluster: "rosa-prod-1", application: "payment-service", pod: "pay-0" };
    const rows = [
      {
        message: "first",
        timestamp: new Date(NOW - 2000).toISOString(),
        tenant_id: "acme",
        pod_name: "pay-0",
      },
      {
        message: "second",
        timestamp: new Date(NOW - 1000).toISOString(),
        tenant_id: "acme",
        pod_name: "pay-0",
      },
    ];

    it("delivers gzipped NDJSON under the Firehose key layout like any staged object", async () => {
      const w = fakeWorld();
      const key = firehoseKey(segments, ".gz");
      w.objects.objects.set(
        `${BUCKET}/${key}`,
        gzipSync(`${rows.map((r) => JSON.stringify(r)).join("\n")}\n`),
      );
      w.configs.items.set("acme", [cwConfig("acme", "111111111111"), s3Config("acme", "111111111111")]);

      const result = await w.engine.processMessage(message(key));

      expect(result.status).toBe("delivered");
      expect(w.logs.batches.map((b) => [b.stream, b.events.map((e) => e.message)])).toEqual([
        ["rosa-prod-1/payment-service/pay-0/2026-11-20", ["first", "second"]],
      ]);
      expect(w.writer.puts[0]!.request.key).toBe(`ROSA/cluster-logs/${key}`);
    });

    it("delivers Parquet (format conversion): rows become events, the S3 copy keeps the file", async () => {
      const w = fakeWorld();
      const key = firehoseKey(segments, ".parquet");
      const body = parquetObject(rows);
      w.objects.objects.set(`${BUCKET}/${key}`, body);
      w.configs.items.set("acme", [cwConfig("acme", "111111111111"), s3Config("acme", "111111111111")]);

      const result = await w.engine.processMessage(message(key));

      expect(result.status).toBe("delivered");
      expect(w.logs.eventsIn("111111111111", "/logs/acme")).toEqual(
        rows.map((r) => ({ message: r.message, timestamp: Date.parse(r.timestamp) })),
      );
      expect(w.writer.puts[0]!.request.key).toBe(`ROSA/cluster-logs/${key}`);
      expect(w.writer.puts[0]!.body.equals(body)).toBe(true);
    });

    it("a corrupt Parquet object fails permanently, saying so", async () => {
      const w = fakeWorld();
      const key = firehoseKey(segments, ".parquet");
      w.objects.objects.set(`${BUCKET}/${key}`, gzipSync("not parquet at all"));
      w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

      const result = await w.engine.processMessage(message(key));

      expect(result.status).toBe("failed_permanent");
      expect(result.objects[0]!.reason).toMatch(/CorruptObjectError: object is not valid Parquet/);
    });

    it("a throttled range read is retried like any S3 call", async () => {
      const w = fakeWorld();
      const key = firehoseKey(segments, ".parquet");
      w.objects.objects.set(`${BUCKET}/${key}`, parquetObject(rows));
      w.objects.rangeFaults.push(Object.assign(new Error("Reduce your request rate."), { name: "SlowDown" }));
      w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

      const result = await w.engine.processMessage(message(key));

      expect(result.status).toBe("delivered");
      expect(w.sleeps).toHaveLength(1);
      expect(w.logs.eventsIn("111111111111", "/logs/acme")).toHaveLength(2);
    });

    it("Firehose error output and quarantine objects are refused as pipeline data, with what to do", async () => {
      const w = fakeWorld();
      const errorsKey =
        "_firehose-errors/activePartitionExceeded/2026/11/22/logrelay-prod-us-east-1-ingest-1-2026-11-22-10-15-30-u.gz";

      const result = await w.engine.processMessage(message(errorsKey));

      expect(result.status).toBe("failed_permanent");
      expect(result.objects[0]!.reason).toContain("not tenant data: Firehose error output");
      expect(result.objects[0]!.reason).toContain("logrelay firehose redrive");
      expect(w.objects.opens).toBe(0);
      expect(w.telemetry.total("PermanentFailures", {})).toBe(1);
    });
  });

  it("does not send events too old or too far in the future, and counts them as rejected", async () => {
    const w = fakeWorld();
    const lines = [
      { message: "ancient", timestamp: NOW - 15 * 86_400_000 },
      { message: "fine", timestamp: NOW - 1000 },
      { message: "future", timestamp: NOW + 3 * 3600_000 },
    ].map((e) => JSON.stringify(e));
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(lines.join("\n")));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(message());

    const d = result.objects[0]!.destinations[0]!;
    expect(d).toMatchObject({ status: "delivered", eventsDelivered: 1, eventsRejected: 2 });
    expect(w.logs.eventsIn("111111111111", "/logs/acme").map((e) => e.message)).toEqual(["fine"]);
  });

  it("counts events CloudWatch reports in rejectedLogEventsInfo", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(10));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.logs.rejected = { tooOldEndIndex: 1, tooNewStartIndex: 8 };

    const result = await w.engine.processMessage(message());

    expect(result.objects[0]!.destinations[0]).toMatchObject({ eventsDelivered: 6, eventsRejected: 4 });
  });

  it("splits an oversize event into pieces that each fit, keeping all text", async () => {
    const w = fakeWorld();
    const big = "b".repeat(600_000);
    w.objects.objects.set(
      `${BUCKET}/${KEY}`,
      gzipSync(JSON.stringify({ message: big, timestamp: NOW - 10 })),
    );
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(message());

    const sent = w.logs.eventsIn("111111111111", "/logs/acme");
    expect(sent.map((e) => e.message).join("")).toBe(big);
    expect(Math.max(...sent.map((e) => Buffer.byteLength(e.message) + 26))).toBeLessThanOrEqual(262_144);
    expect(result.objects[0]!.destinations[0]).toMatchObject({ eventsSplit: 1, eventsDelivered: 3 });
  });

  it("sizes batches by UTF-8 bytes when ASCII lines carry \\u escapes of wider characters", async () => {
    const w = fakeWorld();
    // 1,000 messages of 1,000 "é": 2,000 UTF-8 bytes each, written as 6,000 bytes of ASCII escapes.
    const escaped = (text: string) =>
      text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    const lines = Array.from({ length: 1000 }, (_, i) =>
      escaped(JSON.stringify({ message: "é".repeat(1000), timestamp: NOW - 60_000 + i })),
    );
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(`${lines.join("\n")}\n`));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(message());

    expect(result.status).toBe("delivered");
    expect(w.logs.eventsIn("111111111111", "/logs/acme")).toHaveLength(1000);
    // 2,026,000 bytes as CloudWatch counts them: two batches, each under 1,048,576.
    expect(w.logs.batches).toHaveLength(2);
  });

  it("reports bad lines in the result and a warning, and delivers the good ones", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(`{"message":"ok"}\nnope\n`));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(message());

    expect(result.objects[0]!.destinations[0]).toMatchObject({
      status: "delivered",
      eventsDelivered: 1,
      badLines: 1,
    });
    expect(w.telemetry.lines.find((l) => l.message === "bad lines skipped")?.fields).toMatchObject({
      bad_lines: 1,
      samples: [{ line: 2, reason: "not JSON" }],
    });
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

    await w.engine.processMessage(message());
    await w.engine.processMessage(message(keyB));

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

    const result = await w.engine.processMessage(message());

    expect(result.objects[0]!.destinations[0]!.status).toBe("failed_permanent");
    expect(w.logs.batches).toHaveLength(0);
  });
});

describe("DeliveryEngine ledger identity", () => {
  it("a manual run, a redriven notification and a replay of one object version share one ledger entry", async () => {
    const w = fakeWorld();
    const body = ndjson(2);
    w.objects.objects.set(`${BUCKET}/${KEY}`, body);
    w.configs.items.set("acme", [cwConfig("acme", "111111111111"), s3Config("acme", "111111111111")]);
    const eTag = createHash("md5").update(body).digest("hex");

    const manual = await w.engine.deliverObject({ bucket: BUCKET, key: KEY, eventTime: new Date(NOW) });
    const notified = await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY, { eTag })));

    expect(manual.destinations.map((d) => d.status)).toEqual(["delivered", "delivered"]);
    expect(notified.objects[0]!.destinations.map((d) => d.status)).toEqual([
      "already_delivered",
      "already_delivered",
    ]);
    expect(w.objects.identifies).toBe(1);
    expect(w.logs.batches).toHaveLength(1);
  });
});

describe("DeliveryEngine: the staging-bucket allow-list", () => {
  it("refuses an object in another bucket permanently, with the reason, before reading anything", async () => {
    const w = fakeWorld({ stagingBuckets: [BUCKET] });
    w.objects.objects.set(`attacker-bucket/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(JSON.stringify(s3Event("attacker-bucket", KEY)));

    expect(result.objects[0]).toMatchObject({
      status: "failed_permanent",
      reason: `MalformedMessageError: bucket attacker-bucket is not a staging bucket of this distributor (${BUCKET}): notification refused`,
    });
    expect([w.objects.opens, w.configs.lookups, w.logs.batches.length]).toEqual([0, 0, 0]);
  });
});

describe("DeliveryEngine: the tenant registry decides where logs may go", () => {
  it("refuses a destination in an account the tenant is not registered for: nothing sent, reason names the account", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [
      cwConfig("acme", "999999999999"),
      cwConfig("acme", "111111111111", { log_group_name: "/ok" }),
    ]);
    w.registry.registrations.set("acme", { tenant_id: "acme", accounts: ["111111111111"] });

    const result = await w.engine.processMessage(message());

    const [refused, delivered] = result.objects[0]!.destinations;
    expect(refused).toMatchObject({
      status: "failed_permanent",
      eventsDelivered: 0,
      reason:
        "NotRegisteredError: account 999999999999 is not registered for tenant acme (registered: 111111111111)",
    });
    expect(delivered!.status).toBe("delivered");
    expect(w.broker.requests.map((r) => r.roleArn)).toEqual([
      "arn:aws:iam::111111111111:role/LogDistribution",
    ]);
    expect(w.logs.eventsIn("999999999999", "/logs/acme")).toEqual([]);
    expect(w.telemetry.total("RegistryRefusals")).toBe(2); // service-wide + per tenant
  });

  it("an unregistered tenant delivers nothing, and says so", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.registry.unregistered.add("acme");

    const result = await w.engine.processMessage(message());

    expect(result.objects[0]).toMatchObject({
      status: "failed_permanent",
      reason: "NotRegisteredError: tenant acme is not registered (logrelay tenants register)",
    });
    expect(w.broker.requests).toEqual([]);
  });

  it("refuses an object from a cluster the tenant does not allow", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.registry.registrations.set("acme", {
      tenant_id: "acme",
      accounts: ["111111111111"],
      clusters: ["rosa-9"],
    });

    const result = await w.engine.processMessage(message());

    expect(result.objects[0]!.reason).toBe(
      "NotRegisteredError: cluster cluster-1 may not carry tenant acme's logs (registered clusters: rosa-9)",
    );
    expect(w.logs.batches).toEqual([]);
  });

  it("reads a registration as the API stores it (with updated_at)", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.registry.registrations.set("acme", {
      tenant_id: "acme",
      accounts: ["111111111111"],
      updated_at: "2026-11-28T00:00:00.000Z",
    });

    expect((await w.engine.processMessage(message())).status).toBe("delivered");
  });

  it("a registration that does not pass the schema counts as none (fail closed)", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.registry.registrations.set("acme", { tenant_id: "acme", accounts: "111111111111" });

    const result = await w.engine.processMessage(message());

    expect(result.objects[0]!.status).toBe("failed_permanent");
    expect(w.logs.batches).toEqual([]);
  });
});

describe("DeliveryEngine: claims and checkpoints", () => {
  const big = () => ndjson(25_000, NOW - 60_000, 200); // about 6 batches of 1 MiB
  const messages = (w: ReturnType<typeof fakeWorld>) =>
    w.logs.batches.flatMap((b) => b.events.map((e) => e.message));
  const unique = (list: string[]) => new Set(list).size;

  it("three copies of one notification at once: one delivers, the others are left for retry, then settle", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, big());
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));

    const first = await Promise.all([1, 2, 3].map(() => w.engine.processMessage(body)));
    const later = await w.engine.processMessage(body);

    const statuses = first.map((r) => r.objects[0]!.destinations[0]!.status).sort();
    expect(statuses).toEqual(["delivered", "in_progress_elsewhere", "in_progress_elsewhere"]);
    expect(first.filter((r) => r.status === "failed_transient")).toHaveLength(2);
    expect(later.objects[0]!.destinations[0]!.status).toBe("already_delivered");
    expect(messages(w)).toHaveLength(25_000);
    expect(unique(messages(w))).toBe(25_000);
  });

  it("reads and batches the next batch while a PutLogEvents is on the wire: one call at a time, in order, two batches ahead at most", async () => {
    const w = fakeWorld();
    // Plain NDJSON, served in 64 KB chunks: about 16 chunks per 1 MiB batch.
    const body = gunzipSync(big());
    w.objects.objects.set(`${BUCKET}/${KEY}`, body);
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const chunksPerBatch = (1024 * 1024) / (64 * 1024);
    const servedDuringPut: [number, number][] = [];
    w.logs.wire = async () => {
      const before = w.objects.chunksServed;
      for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
      servedDuringPut.push([before, w.objects.chunksServed]);
    };

    const result = await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" })));

    expect(result.objects[0]!.destinations[0]).toMatchObject({
      status: "delivered",
      eventsDelivered: 25_000,
    });
    expect(messages(w)).toEqual(
      Array.from({ length: 25_000 }, (_, i) => expect.stringMatching(new RegExp(`^event-${i}-`))),
    );
    expect(w.logs.maxInFlight).toBe(1);
    // While the first batch was on the wire, the reader read on: the next batch and the start of
    // the one after it (it stops when a batch is complete and waits for the call), no further.
    const [before, after] = servedDuringPut[0]!;
    expect(after - before).toBeGreaterThanOrEqual(chunksPerBatch - 1);
    expect(after).toBeLessThanOrEqual(3 * chunksPerBatch + 2);
    // Checkpoints follow the acknowledged batches, in order.
    const saved = w.ledger.saves.map((c) => c.batches);
    expect(saved).toEqual(Array.from({ length: saved.length }, (_, i) => i + 1));
  });

  it("an outage mid-object checkpoints what was accepted; the next attempt resumes and sends nothing twice", async () => {
    const w = fakeWorld({ messageBudgetMs: 20_000 });
    w.objects.objects.set(`${BUCKET}/${KEY}`, big());
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    let puts = 0;
    w.logs.onPut = () => {
      if (++puts === 3)
        w.logs.down.set("111111111111", Object.assign(new Error("x"), { name: "ThrottlingException" }));
    };
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));

    const first = await w.engine.processMessage(body);
    w.logs.down.clear();
    const second = await w.engine.processMessage(body);

    expect(first.status).toBe("failed_transient");
    expect(first.objects[0]!.destinations[0]).toMatchObject({
      batches: 2,
      eventsDelivered: expect.any(Number),
    });
    const resumed = second.objects[0]!.destinations[0]!;
    expect(resumed).toMatchObject({ status: "delivered", eventsDelivered: 25_000 });
    expect(resumed.resumedFrom?.batches).toBe(2);
    expect(messages(w)).toHaveLength(25_000);
    expect(unique(messages(w))).toBe(25_000);
    // Metrics count each event once across the two attempts.
    expect(w.telemetry.total("EventsDelivered", { tenant_id: "acme" })).toBe(25_000);
  });

  it("an expired claim (crashed owner) is taken over and resumes from its checkpoint", async () => {
    const w = fakeWorld({ claimLeaseMs: 10_000 });
    w.objects.objects.set(`${BUCKET}/${KEY}`, big());
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));
    await w.engine.processMessage(body);
    // Make the finished entry look like a crash after batch 2: in progress, owned by a dead worker.
    const [id, entry] = [...w.ledger.entries][0]!;
    const sentBefore = w.logs.batches.slice(0, 2).reduce((n, b) => n + b.events.length, 0);
    w.ledger.entries.set(id, {
      state: "in_progress",
      owner: "dead-worker",
      leaseUntil: w.clock.now + 10_000,
      checkpoint: { ...entry.checkpoint!, batches: 2, position: sentBefore, eventsDelivered: sentBefore },
    });
    w.logs.batches.splice(2);

    const blocked = await w.engine.processMessage(body);
    w.clock.now += 10_001;
    const takenOver = await w.engine.processMessage(body);

    expect(blocked.objects[0]!.destinations[0]!.status).toBe("in_progress_elsewhere");
    expect(blocked.objects[0]!.reason).toMatch(/ClaimedElsewhereError: claimed by dead-worker until/);
    expect(takenOver.objects[0]!.destinations[0]).toMatchObject({
      status: "delivered",
      eventsDelivered: 25_000,
    });
    expect(messages(w)).toHaveLength(25_000);
    expect(unique(messages(w))).toBe(25_000);
  });

  it("a checkpoint cut under other batching rules is not trusted: delivery starts again from the first event", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(10));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));
    const id = `${BUCKET}/${KEY}#e:v1|cloudwatch:us-east-1:111111111111:/logs/acme`;
    w.ledger.entries.set(id, {
      state: "in_progress",
      owner: "old-version",
      leaseUntil: 0,
      checkpoint: {
        batching: "cw-0",
        batches: 1,
        position: 5,
        windowNowMs: NOW,
        eventsDelivered: 5,
        eventsRejected: 0,
        eventsSplit: 0,
        badLines: 0,
        bytes: 100,
      },
    });

    const result = await w.engine.processMessage(body);

    expect(result.objects[0]!.destinations[0]).toMatchObject({ status: "delivered", eventsDelivered: 10 });
    expect(messages(w)).toHaveLength(10);
    expect(w.telemetry.lines.some((l) => l.message.startsWith("checkpoint_version_mismatch"))).toBe(true);
  });

  it("a claim lost to another owner stops the destination before its next send", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, big());
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    let puts = 0;
    w.logs.onPut = () => {
      if (++puts !== 2) return;
      for (const entry of w.ledger.entries.values()) entry.owner = "someone-else";
    };

    const result = await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" })));

    expect(result.status).toBe("failed_transient");
    expect(result.objects[0]!.reason).toMatch(/ClaimLostError/);
    expect(w.logs.batches).toHaveLength(2);
  });

  it("an S3 copy repeated (no ledger entry left) lands on the same key with the same bytes: idempotent", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(5));
    w.configs.items.set("acme", [s3Config("acme", "222222222222")]);
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));

    await w.engine.processMessage(body);
    w.ledger.entries.clear();
    await w.engine.processMessage(body);

    expect(w.writer.puts).toHaveLength(2);
    expect(w.writer.puts[1]!.request.key).toBe(w.writer.puts[0]!.request.key);
    expect(w.writer.puts[1]!.body.equals(w.writer.puts[0]!.body)).toBe(true);
  });

  it("a single-batch object costs two ledger writes: the claim and the completion", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" })));

    // The last batch's checkpoint is the completion itself.
    expect(w.ledger.writes).toBe(2);
  });
});

describe("rejectedCount", () => {
  it.each([
    [{}, 10, 0],
    [{ tooOldEndIndex: 2 }, 10, 3],
    [{ expiredEndIndex: 4, tooOldEndIndex: 1 }, 10, 5],
    [{ tooNewStartIndex: 7 }, 10, 3],
    [{ tooOldEndIndex: 5, tooNewStartIndex: 3 }, 10, 10],
  ])("%j of %d -> %d", (info, n, expected) => {
    expect(rejectedCount(info, n)).toBe(expected);
  });
});
