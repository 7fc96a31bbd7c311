import fc from "fast-check";
import {
  eventBytes,
  isInAcceptWindow,
  PUT_LOG_EVENTS_LIMITS as L,
  type LogBatch,
  minimumBatches,
  PutLogEventsBatcher,
  splitOversizeMessage,
} from "../../../../../../../functions/distributor/delivery/destinations/cloudwatch/batching";
import type { LogEvent } from "../../../../../../../functions/distributor/reading/log-records";

function batchAll(events: LogEvent[], limits = L): LogBatch[] {
  const batcher = new PutLogEventsBatcher(limits);
  const out: LogBatch[] = [];
  for (const e of events) {
    for (const message of splitOversizeMessage(
      e.message,
      limits.maxEventBytes - limits.perEventOverheadBytes,
    )) {
      const full = batcher.add({ timestamp: e.timestamp, message });
      if (full) out.push(full);
    }
  }
  const last = batcher.flush();
  if (last) out.push(last);
  return out;
}

/** Every rule PutLogEvents enforces, checked on what the engine would send. */
function assertValid(batch: LogBatch, limits = L) {
  expect(batch.events.length).toBeGreaterThan(0);
  expect(batch.events.length).toBeLessThanOrEqual(limits.maxEvents);
  const bytes = batch.events.reduce((s, e) => s + Buffer.byteLength(e.message) + 26, 0);
  expect(bytes).toBe(batch.bytes);
  expect(bytes).toBeLessThanOrEqual(limits.maxBatchBytes);
  for (let i = 1; i < batch.events.length; i++) {
    expect(batch.events[i]!.timestamp).toBeGreaterThanOrEqual(batch.events[i - 1]!.timestamp);
  }
  expect(batch.events.at(-1)!.timestamp - batch.events[0]!.timestamp).toBeLessThanOrEqual(limits.maxSpanMs);
  for (const e of batch.events)
    expect(Buffer.byteLength(e.message) + 26).toBeLessThanOrEqual(limits.maxEventBytes);
}

const t0 = Date.parse("2026-11-20T00:00:00Z");
const messageArb = fc.oneof(
  { weight: 8, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 600_000 }).map((n) => "é".repeat(n)) },
);
const eventArb = fc.record({
  timestamp: fc.integer({ min: t0 - 3 * 86_400_000, max: t0 + 3 * 86_400_000 }),
  message: messageArb,
});

describe("PutLogEventsBatcher", () => {
  it("never produces a batch that breaks a PutLogEvents rule, and loses no text (property)", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 400 }), (events) => {
        const batches = batchAll(events);
        for (const b of batches) assertValid(b);
        const sent = batches.flatMap((b) => b.events.map((e) => e.message)).join("");
        const given = events.map((e) => e.message).join("");
        expect(sent.length).toBe(given.length);
      }),
      { numRuns: 150 },
    );
  });

  it("keeps the rules under small limits too, where every bound is hit often (property)", () => {
    const small = {
      maxEvents: 5,
      maxBatchBytes: 300,
      perEventOverheadBytes: 26,
      maxSpanMs: 60_000,
      maxEventBytes: 100,
    };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            timestamp: fc.integer({ min: 0, max: 600_000 }),
            message: fc.string({ maxLength: 150 }),
          }),
          {
            maxLength: 200,
          },
        ),
        (events) => {
          for (const b of batchAll(events, small)) assertValid(b, small);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("packs 10,000 events per batch when they are small", () => {
    const events = Array.from({ length: 25_000 }, (_, i) => ({ timestamp: t0 + i, message: "x" }));
    expect(batchAll(events).map((b) => b.events.length)).toEqual([10_000, 10_000, 5_000]);
  });

  it("fills batches up to 1,048,576 bytes counting 26 bytes per event", () => {
    const message = "y".repeat(1000 - 26);
    const batches = batchAll(Array.from({ length: 2100 }, (_, i) => ({ timestamp: t0 + i, message })));
    expect(batches.map((b) => b.events.length)).toEqual([1048, 1048, 4]);
    expect(batches[0]!.bytes).toBe(1_048_000);
  });

  it("closes a batch before it would span more than 24 hours", () => {
    const batches = batchAll([
      { timestamp: t0, message: "a" },
      { timestamp: t0 + 86_400_000, message: "b" },
      { timestamp: t0 + 86_400_001, message: "c" },
    ]);
    expect(batches.map((b) => b.events.map((e) => e.message))).toEqual([["a", "b"], ["c"]]);
  });

  it("sorts events inside a batch", () => {
    const [batch] = batchAll([
      { timestamp: t0 + 5, message: "late" },
      { timestamp: t0, message: "early" },
    ]);
    expect(batch!.events.map((e) => e.message)).toEqual(["early", "late"]);
  });

  it("refuses an event that was not split first", () => {
    expect(() => new PutLogEventsBatcher().add({ timestamp: t0, message: "z".repeat(300_000) })).toThrow(
      /split it first/,
    );
  });

  it("stays within 2% of the minimum batch count for realistic events", () => {
    const events = Array.from({ length: 50_000 }, (_, i) => ({
      timestamp: t0 + i,
      message: "m".repeat(80 + ((i * 7919) % 900)),
    }));
    const batches = batchAll(events);
    const bytes = events.reduce((s, e) => s + eventBytes(e.message), 0);
    expect(batches.length / minimumBatches(events.length, bytes)).toBeLessThanOrEqual(1.02);
  });
});

describe("splitOversizeMessage", () => {
  it("leaves a message within the limit alone", () => {
    expect(splitOversizeMessage("short", 10)).toEqual(["short"]);
  });

  it("splits at character boundaries, never inside a multi-byte character", () => {
    const message = "€".repeat(10); // 3 bytes each
    const pieces = splitOversizeMessage(message, 8);
    expect(pieces.join("")).toBe(message);
    for (const p of pieces) {
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(8);
      expect(p).not.toContain("\uFFFD");
    }
  });
});

describe("isInAcceptWindow", () => {
  const now = t0;
  it.each([
    [now, true],
    [now - 13 * 86_400_000, true],
    [now - 14 * 86_400_000, false],
    [now + 3600_000, true],
    [now + 2 * 3600_000, false],
  ])("%d -> %s", (ts, expected) => {
    expect(isInAcceptWindow(ts, now)).toBe(expected);
  });
});
