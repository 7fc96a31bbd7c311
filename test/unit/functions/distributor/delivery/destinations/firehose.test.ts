import { gzipSync } from "node:zlib";
import { recordBatcher } from "../../../../../../functions/distributor/delivery/destinations/firehose";
import { DestinationDeniedError } from "../../../../../../functions/distributor/errors";
import { BUCKET, fakeWorld, fhConfig, KEY, NOW, ndjson, notificationOf } from "../../../../../harness/fakes";

const ACCOUNT = "111111111111";
const STREAM = "acme-stream";

function world(extra: Record<string, unknown> = {}) {
  const w = fakeWorld();
  w.configs.items.set("acme", [fhConfig("acme", ACCOUNT, extra)]);
  return w;
}

describe("FirehoseDestination", () => {
  it("sends each event's staged record as one JSON line, in batches within PutRecordBatch's limits", async () => {
    const w = world();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1_234));

    const result = await w.engine.processMessage(notificationOf());

    const d = result.objects[0]!.destinations[0]!;
    expect(d).toMatchObject({
      type: "firehose",
      target: `arn:aws:firehose:us-east-1:${ACCOUNT}:deliverystream/${STREAM}`,
      status: "delivered",
      eventsDelivered: 1_234,
      batches: 3,
    });
    const records = w.firehose.recordsIn(ACCOUNT, STREAM);
    expect(records).toHaveLength(1_234);
    expect(records[7]).toEqual({
      message: `event-7-${"x".repeat(20)}`,
      timestamp: new Date(NOW - 60_000 + 7).toISOString(),
    });
    expect(w.firehose.calls.map((c) => c.records)).toEqual([500, 500, 234]);
    // The role hop: the tenant's role and ExternalId, narrowed to the one stream.
    const session = w.broker.requests.at(-1)!;
    expect(session).toMatchObject({
      roleArn: `arn:aws:iam::${ACCOUNT}:role/LogDistribution`,
      externalId: "ext-acme",
      tenantId: "acme",
    });
    expect(JSON.parse(session.sessionPolicy).Statement).toEqual([
      {
        Effect: "Allow",
        Action: "firehose:PutRecordBatch",
        Resource: `arn:aws:firehose:us-east-1:${ACCOUNT}:deliverystream/${STREAM}`,
      },
    ]);
  });

  it("sends again only the records Firehose refused one by one, then checkpoints the batch", async () => {
    const w = world();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(600));
    w.firehose.refusals.push([3, 499], [0]);

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.destinations[0]).toMatchObject({ status: "delivered", eventsDelivered: 600 });
    expect(w.firehose.calls.map((c) => c.records)).toEqual([500, 2, 1, 100]);
    const messages = w.firehose.recordsIn(ACCOUNT, STREAM).map((r) => r.message as string);
    expect(new Set(messages).size).toBe(600);
    expect(messages).toHaveLength(600);
  });

  it("a redelivered notification adds no record; a crash repeats at most the batch in flight", async () => {
    const w = world();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1_200));
    // The second call fails for good this attempt: the first batch is checkpointed.
    w.firehose.faults.push(
      Object.assign(new Error(""), {
        name: "ServiceUnavailableException",
        $metadata: { httpStatusCode: 503 },
      }),
    );
    w.firehose.refusals.push([]);
    const first = await w.engine.processMessage(notificationOf());
    const again = await w.engine.processMessage(notificationOf());
    const third = await w.engine.processMessage(notificationOf());

    expect([first.status, again.status, third.status]).toEqual(["delivered", "delivered", "delivered"]);
    expect(third.objects[0]!.destinations[0]!.status).toBe("already_delivered");
    const messages = w.firehose.recordsIn(ACCOUNT, STREAM).map((r) => r.message);
    expect(messages).toHaveLength(1_200);
    expect(new Set(messages).size).toBe(1_200);
  });

  it("a stream that is gone or refuses is the customer's side: the delivery is parked", async () => {
    const w = world();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(5));
    // What the adapter makes of ResourceNotFoundException (adapters/firehose.test.ts).
    w.firehose.faults.push(new DestinationDeniedError("Firehose refused acme-stream: not found"));

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.destinations[0]).toMatchObject({
      status: "parked",
      reason: expect.stringMatching(/^DestinationDeniedError: Firehose refused acme-stream: .*not found/),
    });
  });

  it("a record over 1,000 KiB is not sent and counts as rejected; the others go", async () => {
    const w = world();
    const lines = [
      { message: "small", timestamp: new Date(NOW).toISOString() },
      { message: "x".repeat(1_100_000), timestamp: new Date(NOW).toISOString() },
      { message: "after", timestamp: new Date(NOW).toISOString() },
    ];
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(lines.map((l) => JSON.stringify(l)).join("\n")));

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.destinations[0]).toMatchObject({
      status: "delivered",
      eventsDelivered: 2,
      eventsRejected: 1,
    });
    expect(w.firehose.recordsIn(ACCOUNT, STREAM).map((r) => r.message)).toEqual(["small", "after"]);
    expect(
      w.telemetry.lines.find((l) => l.message.startsWith("record over Firehose's 1,000 KiB"))?.fields,
    ).toMatchObject({
      tenant_id: "acme",
      record_bytes: expect.any(Number),
    });
  });

  it("filters and redacts the staged record, every string of it, and counts both", async () => {
    const w = world({
      filter: {
        exclude: [
          { field: "message", regex: "GET /healthz" },
          { field: "level", in: ["debug"] },
        ],
      },
      redact: ["email", "ipv4"],
    });
    const lines = [
      { message: "GET /healthz 200", level: "info" },
      { message: "login jane@example.com", level: "info", client: { ip: "10.0.0.7" } },
      { message: "noise", level: "debug" },
      { message: "ok", level: "info", owner: "ops@example.com" },
    ];
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(lines.map((l) => JSON.stringify(l)).join("\n")));

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.destinations[0]).toMatchObject({
      status: "delivered",
      eventsDelivered: 2,
      eventsFiltered: 2,
      filtered: { "exclude.0": 1, "exclude.1": 1 },
      redactions: { email: 2, ipv4: 1 },
    });
    expect(w.firehose.recordsIn(ACCOUNT, STREAM)).toEqual([
      { message: "login [REDACTED:email]", level: "info", client: { ip: "[REDACTED:ipv4]" } },
      { message: "ok", level: "info", owner: "[REDACTED:email]" },
    ]);
  });
});

describe("recordBatcher", () => {
  it("closes a batch at 500 records or before 4 MiB", () => {
    const b = recordBatcher();
    const record = new Uint8Array(1);
    const sizes: number[] = [];
    for (let i = 0; i < 1_001; i++) {
      const closed = b.add(record, 1);
      if (closed) sizes.push(closed.events.length);
    }
    expect(sizes).toEqual([500, 500]);
    const big = recordBatcher();
    const mib = new Uint8Array(1);
    expect(big.add(mib, 1_000_000)).toBeUndefined();
    expect(big.add(mib, 1_000_000)).toBeUndefined();
    expect(big.add(mib, 1_000_000)).toBeUndefined();
    expect(big.add(mib, 1_000_000)).toBeUndefined();
    expect(big.add(mib, 1_000_000)?.bytes).toBe(4_000_000);
    expect(big.flush()?.bytes).toBe(1_000_000);
  });
});
