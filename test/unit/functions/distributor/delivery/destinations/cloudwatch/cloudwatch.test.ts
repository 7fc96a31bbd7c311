import { gunzipSync, gzipSync } from "node:zlib";
import { rejectedCount } from "../../../../../../../functions/distributor/delivery/destinations/cloudwatch/cloudwatch";
import { Deadline } from "../../../../../../../functions/distributor/delivery/retry";
import { countsOf } from "../../../../../../../functions/distributor/model/counts";
import { s3Event } from "../../../../../../harness/factories";
import {
  BUCKET,
  cwConfig,
  fakeWorld,
  KEY,
  NOW,
  ndjson,
  notificationOf,
} from "../../../../../../harness/fakes";

describe("CloudWatchDestination", () => {
  const big = () => ndjson(25_000, NOW - 60_000, 200); // about 6 batches of 1 MiB
  const messages = (w: ReturnType<typeof fakeWorld>) =>
    w.logs.batches.flatMap((b) => b.events.map((e) => e.message));

  it("does not send events too old or too far in the future, and counts them as rejected", async () => {
    const w = fakeWorld();
    const lines = [
      { message: "ancient", timestamp: NOW - 15 * 86_400_000 },
      { message: "fine", timestamp: NOW - 1000 },
      { message: "future", timestamp: NOW + 3 * 3600_000 },
    ].map((e) => JSON.stringify(e));
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(lines.join("\n")));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(notificationOf());

    const d = result.objects[0]!.destinations[0]!;
    expect(d).toMatchObject({ status: "delivered", eventsDelivered: 1, eventsRejected: 2 });
    expect(w.logs.eventsIn("111111111111", "/logs/acme").map((e) => e.message)).toEqual(["fine"]);
  });

  it("counts events CloudWatch reports in rejectedLogEventsInfo", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(10));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.logs.rejected = { tooOldEndIndex: 1, tooNewStartIndex: 8 };

    const result = await w.engine.processMessage(notificationOf());

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

    const result = await w.engine.processMessage(notificationOf());

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

    const result = await w.engine.processMessage(notificationOf());

    expect(result.status).toBe("delivered");
    expect(w.logs.eventsIn("111111111111", "/logs/acme")).toHaveLength(1000);
    // 2,026,000 bytes as CloudWatch counts them: two batches, each under 1,048,576.
    expect(w.logs.batches).toHaveLength(2);
  });

  it("reports bad lines in the result and a warning, and delivers the good ones", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(`{"message":"ok"}\nnope\n`));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(notificationOf());

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
        eventsFiltered: 0,
      },
    });

    const result = await w.engine.processMessage(body);

    expect(result.objects[0]!.destinations[0]).toMatchObject({ status: "delivered", eventsDelivered: 10 });
    expect(messages(w)).toHaveLength(10);
    expect(w.telemetry.lines.some((l) => l.message.startsWith("checkpoint_version_mismatch"))).toBe(true);
  });
});

describe("CloudWatchDestination with a config's filter and redaction", () => {
  const rules = {
    filter: {
      include: [{ field: "kubernetes.pod_namespace", regex: "^payments-" }],
      exclude: [
        { field: "message", regex: "GET /healthz" },
        { field: "message.level", in: ["debug"] },
      ],
    },
    redact: ["email", "aws_access_key", { name: "ticket", regex: "TCK-[0-9]{6}", replace_with: "[TICKET]" }],
  };
  const record = (message: string, namespace = "payments-prod") =>
    JSON.stringify({
      message,
      timestamp: new Date(NOW - 1000).toISOString(),
      kubernetes: { pod_namespace: namespace },
    });

  it("sends only what the filter lets through, masked, and counts both by reason and rule", async () => {
    const w = fakeWorld();
    w.configs.items.set("acme", [cwConfig("acme", "111111111111", rules)]);
    const lines = [
      record("GET /healthz 200"),
      record('{"level":"debug","msg":"cache miss"}'),
      record("order by jane@example.com, key AKIAIOSFODNN7EXAMPLE, TCK-123456"),
      record("another namespace jane@example.com", "search-prod"),
      record('{"level":"info","msg":"paid"}'),
    ];
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(lines.join("\n")));

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.destinations[0]).toMatchObject({
      status: "delivered",
      eventsDelivered: 2,
      eventsFiltered: 3,
      filtered: { include: 1, "exclude.0": 1, "exclude.1": 1 },
      redactions: { email: 1, aws_access_key: 1, ticket: 1 },
    });
    expect(w.logs.eventsIn("111111111111", "/logs/acme").map((e) => e.message)).toEqual([
      "order by [REDACTED:email], key [REDACTED:aws_access_key], [TICKET]",
      '{"level":"info","msg":"paid"}',
    ]);
  });

  it("resumes under the same rules without counting again", async () => {
    const w = fakeWorld();
    w.configs.items.set("acme", [
      cwConfig("acme", "111111111111", { filter: { exclude: [{ field: "message", regex: "^skip" }] } }),
    ]);
    // 30,000 events of 100 bytes, every third one filtered: two batches.
    const lines = Array.from({ length: 30_000 }, (_, i) =>
      record(`${i % 3 === 0 ? "skip" : "keep"} ${i} ${"z".repeat(90)}`),
    );
    w.objects.objects.set(`${BUCKET}/${KEY}`, gzipSync(lines.join("\n")));
    // The first put goes; then CloudWatch throttles until the first attempt's time is up.
    let failing = true;
    w.logs.fail = (put) =>
      failing && put > 1
        ? Object.assign(new Error("Rate exceeded"), {
            name: "ThrottlingException",
            $metadata: { httpStatusCode: 400 },
          })
        : undefined;
    const first = await w.engine.processMessage(
      notificationOf(),
      {},
      Deadline.after(60_000, () => w.clock.now),
    );
    failing = false;
    const second = await w.engine.processMessage(notificationOf());

    expect(first.status).toBe("failed_transient");
    const d = second.objects[0]!.destinations[0]!;
    expect(d).toMatchObject({ status: "delivered", eventsDelivered: 20_000, eventsFiltered: 10_000 });
    expect(d.resumedFrom?.batches).toBe(1);
    // The second attempt counts only what it read past the checkpoint.
    expect(d.filtered!["exclude.0"]).toBeLessThan(10_000);
    expect(d.filtered!["exclude.0"]! + d.resumedFrom!.eventsFiltered).toBe(10_000);
    const sent = w.logs.eventsIn("111111111111", "/logs/acme").map((e) => e.message);
    expect(new Set(sent).size).toBe(20_000);
  });
});

describe("a checkpoint written under other rules", () => {
  it("is not trusted when the config's rules changed: delivery starts again from the first event", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(10));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111", { redact: ["email"] })]);
    const id = `${BUCKET}/${KEY}#e:v1|cloudwatch:us-east-1:111111111111:/logs/acme`;
    w.ledger.entries.set(id, {
      state: "in_progress",
      owner: "before-the-rules",
      leaseUntil: 0,
      checkpoint: {
        ...countsOf(),
        batching: "cw-1",
        batches: 1,
        position: 5,
        windowNowMs: NOW,
        eventsDelivered: 5,
      },
    });

    const result = await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" })));

    expect(result.objects[0]!.destinations[0]).toMatchObject({ status: "delivered", eventsDelivered: 10 });
    const mismatch = w.telemetry.lines.find((l) => l.message.startsWith("checkpoint_version_mismatch"));
    expect(mismatch?.fields).toMatchObject({
      checkpoint_batching: "cw-1",
      batching: expect.stringMatching(/^cw-1\+[0-9a-f]{12}$/),
    });
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
