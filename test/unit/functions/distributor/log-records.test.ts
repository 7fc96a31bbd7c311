import { gzipSync } from "node:zlib";
import {
  type LogEvent,
  newReadStats,
  parseTimestamp,
  readLogEvents,
  recordToEvent,
} from "../../../../functions/distributor/log-records";

async function readAll(data: Buffer, chunkSize = 7, maxLineChars?: number) {
  async function* chunks() {
    for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, i + chunkSize);
  }
  const stats = newReadStats();
  const events: LogEvent[] = [];
  for await (const batch of readLogEvents(
    chunks(),
    { fallbackTimestampMs: 42, ...(maxLineChars && { maxLineChars }) },
    stats,
  )) {
    events.push(...batch);
  }
  return { events, stats };
}

describe("parseTimestamp", () => {
  it.each([
    ["2026-11-20T10:00:00Z", Date.parse("2026-11-20T10:00:00Z")],
    ["2026-11-20T10:00:00.123456789+02:00", Date.parse("2026-11-20T08:00:00.123Z")],
    [1763632800, 1763632800000],
    [1763632800.5, 1763632800500],
    [1763632800123, 1763632800123],
    ["1763632800123", 1763632800123],
    [1763632800123456, 1763632800123],
    [1763632800123456800, 1763632800123], // nanoseconds (as a double)
  ])("reads %j", (value, expected) => {
    expect(parseTimestamp(value)).toBe(expected);
  });

  it.each([["yesterday"], [""], [-5], [0], [null], [{}], [Number.NaN]])("refuses %j", (value) => {
    expect(parseTimestamp(value)).toBeUndefined();
  });
});

describe("recordToEvent", () => {
  it("prefers message, then msg, then log, and falls back to the whole record", () => {
    expect(recordToEvent({ message: "a", msg: "b" }, 1)).toEqual({ message: "a", timestamp: 1 });
    expect(recordToEvent({ msg: "b", log: "c" }, 1)).toEqual({ message: "b", timestamp: 1 });
    expect(recordToEvent({ level: "info" }, 1)).toEqual({ message: '{"level":"info"}', timestamp: 1 });
    expect(recordToEvent({ message: { nested: true } }, 1)).toEqual({
      message: '{"nested":true}',
      timestamp: 1,
    });
  });

  it("takes the first usable time field and falls back to the object time", () => {
    expect((recordToEvent({ message: "m", time: "garbage", ts: 1763632800 }, 1) as LogEvent).timestamp).toBe(
      1763632800000,
    );
    expect(
      (recordToEvent({ message: "m", "@timestamp": "2026-11-20T10:00:00Z" }, 1) as LogEvent).timestamp,
    ).toBe(Date.parse("2026-11-20T10:00:00Z"));
    expect(
      (
        recordToEvent(
          { message: "m", requestReceivedTimestamp: "2026-11-20T10:00:00.000001Z" },
          1,
        ) as LogEvent
      ).timestamp,
    ).toBe(Date.parse("2026-11-20T10:00:00Z"));
    expect((recordToEvent({ message: "m" }, 99) as LogEvent).timestamp).toBe(99);
  });

  it("refuses records that are not objects", () => {
    expect(recordToEvent("text", 1)).toBe("record is not a JSON object");
    expect(recordToEvent([1], 1)).toBe("record is not a JSON object");
  });
});

describe("readLogEvents", () => {
  const lines = [
    '{"message":"one","timestamp":1763632800000}',
    '{"message":"zwei ü €","timestamp":1763632801000}',
  ];

  it("streams gzipped NDJSON split at any byte, multi-byte characters included", async () => {
    const { events, stats } = await readAll(gzipSync(`${lines.join("\n")}\n`), 3);
    expect(events).toEqual([
      { message: "one", timestamp: 1763632800000 },
      { message: "zwei ü €", timestamp: 1763632801000 },
    ]);
    expect(stats).toMatchObject({ lines: 2, events: 2, badLines: 0 });
  });

  it("reads plain (not gzipped) NDJSON, CRLF endings and a last line without newline", async () => {
    const { events } = await readAll(Buffer.from(`${lines[0]}\r\n\n${lines[1]}`), 5);
    expect(events.map((e) => e.message)).toEqual(["one", "zwei ü €"]);
  });

  it("reads the JSON-array-per-line variant", async () => {
    const { events } = await readAll(gzipSync(`[${lines.join(",")}]\n${lines[0]}\n`));
    expect(events.map((e) => e.message)).toEqual(["one", "zwei ü €", "one"]);
  });

  it("counts bad lines with line numbers and keeps going", async () => {
    const text = [lines[0], "not json", "42", lines[1], '{"broken":'].join("\n");
    const { events, stats } = await readAll(gzipSync(text));
    expect(events).toHaveLength(2);
    expect(stats.badLines).toBe(3);
    expect(stats.badSamples).toEqual([
      { line: 2, reason: "not JSON" },
      { line: 3, reason: "record is not a JSON object" },
      { line: 5, reason: "not JSON" },
    ]);
  });

  it("refuses a line over the length bound without holding it in memory", async () => {
    const text = `${lines[0]}\n{"message":"${"x".repeat(5000)}"}\n${lines[1]}\n`;
    const { events, stats } = await readAll(Buffer.from(text), 100, 1000);
    expect(events.map((e) => e.message)).toEqual(["one", "zwei ü €"]);
    expect(stats.badSamples).toEqual([{ line: 2, reason: "line longer than 1000 characters" }]);
  });

  it("reads every member of a multi-member gzip (concatenated batches)", async () => {
    const { events } = await readAll(Buffer.concat([gzipSync(`${lines[0]}\n`), gzipSync(`${lines[1]}\n`)]));
    expect(events).toHaveLength(2);
  });

  it("throws CorruptObjectError on a damaged gzip stream", async () => {
    const good = gzipSync(`${lines[0]}\n`.repeat(100));
    const bad = Buffer.concat([good.subarray(0, 20), Buffer.alloc(30, 0xff), good.subarray(50)]);
    await expect(readAll(bad)).rejects.toMatchObject({ name: "CorruptObjectError" });
    await expect(readAll(good.subarray(0, good.length - 10))).rejects.toThrow(/not valid gzip/);
  });

  it("passes errors of the source itself through unchanged (a network error is not corruption)", async () => {
    async function* failing() {
      yield gzipSync(`${lines[0]}\n`).subarray(0, 10);
      throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    }
    const run = async () => {
      for await (const _ of readLogEvents(failing(), { fallbackTimestampMs: 0 })) {
        // drain
      }
    };
    await expect(run()).rejects.toMatchObject({ code: "ECONNRESET" });
  });

  it("yields nothing for an empty object", async () => {
    expect((await readAll(Buffer.alloc(0))).events).toEqual([]);
  });
});
