import { gzipSync } from "node:zlib";
import { beatOf } from "../../../../../functions/distributor/reporting/heartbeats";
import { s3Event } from "../../../../harness/factories";
import { BUCKET, cwConfig, fakeWorld, NOW } from "../../../../harness/fakes";

const line = (seq: number, series = "6f1c2a3e", emittedAtMs = NOW - 120_000 + seq * 1000) =>
  JSON.stringify({
    logrelay_heartbeat: 1,
    cluster_id: "rosa-1",
    series,
    seq,
    emitted_at: new Date(emittedAtMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
  });
/** A heartbeat object as the collector stages it (records with the line as message). */
const heartbeatObject = (seqs: number[]) =>
  gzipSync(
    `${seqs
      .map((n) =>
        JSON.stringify({ message: line(n), timestamp: new Date(NOW - 120_000 + n * 1000).toISOString() }),
      )
      .join("\n")}\n`,
  );
const KEY = (n: number) => `logrelay-heartbeat/rosa-1/logrelay-heartbeat/logrelay-heartbeat-x/${n}-u.log.gz`;

describe("beatOf: reading a heartbeat line", () => {
  it("reads the documented line", () => {
    expect(beatOf(line(42))).toEqual({
      series: "6f1c2a3e",
      seq: 42,
      emittedAtMs: Date.parse(JSON.parse(line(42)).emitted_at),
    });
  });
  it.each([
    ["not JSON", "hello"],
    ["another record", JSON.stringify({ seq: 1, series: "x", emitted_at: "2026-12-06T21:00:00Z" })],
    ["seq 0", line(0)],
    ["seq not a number", line(1).replace('"seq":1', '"seq":"1"')],
    ["no time", JSON.stringify({ logrelay_heartbeat: 1, series: "s", seq: 1 })],
    [
      "a time without a form",
      JSON.stringify({ logrelay_heartbeat: 1, series: "s", seq: 1, emitted_at: "yesterday" }),
    ],
  ])("refuses %s", (_what, message) => {
    expect(beatOf(message)).toBeUndefined();
  });
});

describe("the heartbeat tenant's deliveries keep each cluster's pulse", () => {
  const world = () => {
    const w = fakeWorld();
    w.configs.items.set("logrelay-heartbeat", [
      cwConfig("logrelay-heartbeat", "123456789012", {
        log_group_name: "/logrelay/local/logrelay-heartbeat/us-east-1",
      }),
    ]);
    return w;
  };

  it("a delivered heartbeat object records the cluster's pulse: last emit, delivery, lag, gaps, metrics", async () => {
    const w = world();
    w.objects.objects.set(`${BUCKET}/${KEY(1)}`, heartbeatObject([1, 2, 4]));
    const result = await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY(1), { eTag: "a" })));

    expect(result.status).toBe("delivered");
    expect(w.logs.batches.flatMap((b) => b.events)).toHaveLength(3);
    expect(w.pulses.pulses.get("rosa-1")).toMatchObject({
      series: "6f1c2a3e",
      lastSeq: 4,
      missing: [3],
      gaps: 1,
      lastEmittedAt: new Date(NOW - 116_000).toISOString(),
      lastDeliveredAt: new Date(NOW).toISOString(),
      lagSeconds: 116,
    });
    expect(
      w.telemetry.metricSets.filter((m) => m.dimensions.cluster_id === "rosa-1").flatMap((m) => m.data),
    ).toEqual([
      { name: "HeartbeatLag", value: 116_000, unit: "Milliseconds" },
      { name: "HeartbeatGaps", value: 1, unit: "Count" },
    ]);
  });

  it("the late heartbeat closes the gap; a redelivered notification adds nothing", async () => {
    const w = world();
    w.objects.objects.set(`${BUCKET}/${KEY(1)}`, heartbeatObject([1, 2, 4]));
    w.objects.objects.set(`${BUCKET}/${KEY(2)}`, heartbeatObject([3, 5]));
    await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY(1), { eTag: "a" })));
    await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY(2), { eTag: "b" })));
    await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY(2), { eTag: "b" })));
    expect(w.pulses.pulses.get("rosa-1")).toMatchObject({ lastSeq: 5, missing: [], gaps: 0, version: 2 });
  });

  it("a delivery that fails records no pulse; other tenants' objects never do", async () => {
    const w = world();
    w.objects.objects.set(`${BUCKET}/${KEY(1)}`, heartbeatObject([1]));
    w.broker.denyRoles.add("arn:aws:iam::123456789012:role/LogDistribution");
    const parked = await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY(1), { eTag: "a" })));
    expect(parked.status).toBe("parked");
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const mimic = "acme/rosa-1/logrelay-heartbeat/logrelay-heartbeat-x/1-u.log.gz";
    w.objects.objects.set(`${BUCKET}/${mimic}`, heartbeatObject([1, 2]));
    await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, mimic, { eTag: "c" })));
    expect(w.pulses.pulses.size).toBe(0);
  });
});
