import { gzipSync } from "node:zlib";
import { firehoseKey, parquetObject } from "../../../../harness/factories";
import { BUCKET, cwConfig, fakeWorld, NOW, notificationOf, s3Config } from "../../../../harness/fakes";

describe("DeliveryEngine: objects written by Firehose (the ingestion option)", () => {
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
    w.objects.objects.set(`${BUCKET}/${key}`, gzipSync(`${rows.map((r) => JSON.stringify(r)).join("\n")}\n`));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111"), s3Config("acme", "111111111111")]);

    const result = await w.engine.processMessage(notificationOf(key));

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

    const result = await w.engine.processMessage(notificationOf(key));

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

    const result = await w.engine.processMessage(notificationOf(key));

    expect(result.status).toBe("failed_permanent");
    expect(result.objects[0]!.reason).toMatch(/CorruptObjectError: object is not valid Parquet/);
  });

  it("a throttled range read is retried like any S3 call", async () => {
    const w = fakeWorld();
    const key = firehoseKey(segments, ".parquet");
    w.objects.objects.set(`${BUCKET}/${key}`, parquetObject(rows));
    w.objects.rangeFaults.push(Object.assign(new Error("Reduce your request rate."), { name: "SlowDown" }));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(notificationOf(key));

    expect(result.status).toBe("delivered");
    expect(w.sleeps).toHaveLength(1);
    expect(w.logs.eventsIn("111111111111", "/logs/acme")).toHaveLength(2);
  });

  it("Firehose error output and quarantine objects are refused as pipeline data, with what to do", async () => {
    const w = fakeWorld();
    const errorsKey =
      "_firehose-errors/activePartitionExceeded/2026/11/22/logrelay-prod-us-east-1-ingest-1-2026-11-22-10-15-30-u.gz";

    const result = await w.engine.processMessage(notificationOf(errorsKey));

    expect(result.status).toBe("failed_permanent");
    expect(result.objects[0]!.reason).toContain("not tenant data: Firehose error output");
    expect(result.objects[0]!.reason).toContain("logrelay firehose redrive");
    expect(w.objects.opens).toBe(0);
    expect(w.telemetry.total("PermanentFailures", {})).toBe(1);
  });
});
