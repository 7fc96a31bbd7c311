import { gzipSync } from "node:zlib";
import { DEFAULT_OBJECT_LIMITS } from "../../../../../functions/distributor/reading/decompress";
import {
  type LogEvent,
  nestedDeeperThan,
  newReadStats,
  parseTimestamp,
  readLogEvents,
  recordToEvent,
} from "../../../../../functions/distributor/reading/log-records";

async function readAll(data: Buffer, chunkSize = 7, maxLineBytes?: number) {
  async function* chunks() {
    for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, i + chunkSize);
  }
  const stats = newReadStats();
  const events: LogEvent[] = [];
  for await (const batch of readLogEvents(
    chunks(),
    { fallbackTimestampMs: 42, ...(maxLineBytes && { maxLineBytes }) },
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

  it("reads ISO-8601 UTC times as Date.parse does, edge cases and near misses included", () => {
    const edges = [
      "2026-11-29T00:43:08Z",
      "2026-11-29T00:43:08.5Z",
      "2026-11-29T00:43:08.56Z",
      "2026-11-29T00:43:08.5629Z",
      "2026-11-29T00:43:08.123456789Z",
      "2026-11-29T00:43:08.9999Z",
      "2026-02-31T00:00:00Z", // rolls over to March
      "2024-02-29T23:59:59.999Z",
      "1969-12-31T23:59:59.999Z",
      "1000-01-01T00:00:00Z",
      "0999-01-01T00:00:00Z",
      "0050-01-01T00:00:00Z",
      "2026-11-29T24:00:00Z",
      "2026-11-29T23:60:00Z",
      "2026-11-29T23:59:60Z",
      "2026-00-10T00:00:00Z",
      "2026-13-10T00:00:00Z",
      "2026-11-00T00:00:00Z",
      "2026-11-32T00:00:00Z",
      "2026-11-29T00:43:08.Z",
      "2026-11-29T00:43:08,5Z",
      "2026-11-29T00:43:08.5xZ",
      "2026-11-29t00:43:08Z",
      "2026-11-29T00:43:08z",
      "2026-11-29 00:43:08Z",
      "2026-11-29T00:43:08+01:00",
      "2026-11-29T00:43Z",
      "+02026-11-29T00:43:08Z",
      "2026-1a-29T00:43:08Z",
      "20a6-11-29T00:43:08Z",
    ];
    // And a spread of valid times, every field's range covered.
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    const random = Array.from({ length: 2000 }, () => {
      const fraction = rand(4) === 0 ? "" : `.${pad(rand(10 ** 9), 9).slice(0, 1 + rand(9))}`;
      return `${1000 + rand(9000)}-${pad(1 + rand(12), 2)}-${pad(1 + rand(31), 2)}T${pad(rand(24), 2)}:${pad(rand(60), 2)}:${pad(rand(60), 2)}${fraction}Z`;
    });
    // Where the one rule reads more than Date.parse: ISO-8601's comma before a fraction.
    const documented: Record<string, string> = { "2026-11-29T00:43:08,5Z": "2026-11-29T00:43:08.5Z" };
    for (const value of [...edges, ...random]) {
      const expected = Date.parse(documented[value] ?? value);
      expect([value, parseTimestamp(value)]).toEqual([value, Number.isNaN(expected) ? undefined : expected]);
    }
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

  it("answers as the field rules do for any mix of message and time fields", () => {
    // The rules written out plainly: the first of message/msg/log that is set (a string as it
    // is, anything else as JSON), else the whole record; the first time field that reads.
    const reference = (r: Record<string, unknown>, fallback: number): LogEvent => {
      const field = ["message", "msg", "log"].find((f) => r[f] !== undefined && r[f] !== null);
      const value = field === undefined ? r : r[field];
      const message = typeof value === "string" ? value : JSON.stringify(value);
      const times = ["timestamp", "@timestamp", "time", "ts", "date", "eventTime"];
      const timestamp = times.map((f) => parseTimestamp(r[f])).find((t) => t !== undefined);
      return { message, timestamp: timestamp ?? fallback };
    };
    const messages = ["", "text", "é", 7, null, { a: 1 }, undefined];
    const times = [
      "2026-11-20T10:00:00Z",
      "2026-11-20T10:00:00.123456Z",
      "2026-13-20T10:00:00Z",
      "2026-11-20T10:00:00+01:00",
      "2026-11-20 10:00:00",
      "1763632800",
      1763632800123,
      "garbage",
      "",
      null,
      undefined,
    ];
    let seed = 7;
    const pick = <T>(values: T[]): T => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return values[seed % values.length]!;
    };
    for (let i = 0; i < 3000; i++) {
      const record: Record<string, unknown> = {};
      for (const f of ["message", "msg", "timestamp", "time", "ts"]) {
        const value = pick(f.startsWith("m") ? messages : times);
        if (value !== undefined) record[f] = value;
      }
      expect([record, recordToEvent(record, 5)]).toEqual([record, reference(record, 5)]);
    }
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
    expect(stats.badSamples).toEqual([{ line: 2, reason: "line longer than 1000 bytes" }]);
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

  describe("hostile objects", () => {
    /** Reads with caps; returns the events before a refusal and the refusal. */
    async function readCapped(data: Buffer, limits: { maxObjectBytes: number; maxCompressionRatio: number }) {
      async function* chunks() {
        for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
      }
      const stats = newReadStats();
      let events = 0;
      let error: unknown;
      try {
        for await (const batch of readLogEvents(chunks(), { fallbackTimestampMs: 0, limits }, stats))
          events += batch.length;
      } catch (e) {
        error = e;
      }
      return { events, stats, error: error as Error | undefined };
    }
    const line = (i: number) => `{"message":"event ${i} ${"payload ".repeat(10)}"}\n`;

    it("refuses an object past MAX_OBJECT_BYTES after the events before the cap", async () => {
      const text = Array.from({ length: 20_000 }, (_, i) => line(i)).join("");
      const { events, stats, error } = await readCapped(gzipSync(text), {
        maxObjectBytes: 1024 * 1024,
        maxCompressionRatio: 200,
      });
      expect(error).toMatchObject({ name: "ObjectCapError" });
      expect(error?.message).toMatch(
        /^object is larger than MAX_OBJECT_BYTES \(1048576 bytes\) once decompressed: refused after line \d+$/,
      );
      expect(stats.bytes).toBeLessThanOrEqual(1024 * 1024);
      expect(events).toBeGreaterThan(5_000);
      expect(events).toBeLessThan(20_000);
      // The same cap holds for an object stored without compression.
      const plain = await readCapped(Buffer.from(text), {
        maxObjectBytes: 1024 * 1024,
        maxCompressionRatio: 200,
      });
      expect(plain.error?.message).toMatch(/larger than MAX_OBJECT_BYTES/);
    });

    it("refuses a gzip bomb by its ratio once 16 MiB have inflated, and lets a small, very compressible object through", async () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, "a"), { level: 9 });
      const { error, stats } = await readCapped(bomb, {
        maxObjectBytes: 1024 ** 3,
        maxCompressionRatio: 200,
      });
      expect(error?.message).toMatch(
        /^object inflates \d+:1 \(\d+ bytes from \d+\), past MAX_COMPRESSION_RATIO 200:1: refused as a gzip bomb after line 0$/,
      );
      expect(stats.bytes).toBeLessThan(17 * 1024 * 1024);

      const small = gzipSync(`${line(0)}${"\n".repeat(1024 * 1024)}`);
      expect(Buffer.byteLength(`${line(0)}`) + 1024 * 1024).toBeGreaterThan(500 * small.length);
      const read = await readCapped(small, { maxObjectBytes: 1024 ** 3, maxCompressionRatio: 200 });
      expect(read.error).toBeUndefined();
      expect(read.events).toBe(1);
    });

    it("a 64 MB Vector batch of repetitive pod logs passes the default caps", async () => {
      // What Vector's kubernetes_logs source writes, a health check every line: as compressible as
      // real logs get (only the time and a counter change).
      const vectorLine = (i: number) =>
        `${JSON.stringify({
          message: `GET /healthz 200 ${i % 7}ms`,
          timestamp: new Date(Date.UTC(2026, 11, 7) + i).toISOString(),
          stream: "stdout",
          kubernetes: {
            pod_name: "payment-service-7d9f8b6c5-x2k4q",
            pod_namespace: "acme-prod",
            container_name: "app",
            pod_labels: { app: "payment-service", "pod-template-hash": "7d9f8b6c5" },
            pod_node_name: "ip-10-0-3-17.ec2.internal",
          },
        })}\n`;
      const lines: string[] = [];
      let bytes = 0;
      for (let i = 0; bytes < 64 * 1024 * 1024; i++) {
        const l = vectorLine(i);
        lines.push(l);
        bytes += l.length;
      }
      const gz = gzipSync(lines.join(""), { level: 6 });
      const read = await readCapped(gz, DEFAULT_OBJECT_LIMITS);
      expect(read.error).toBeUndefined();
      expect(read.events).toBe(lines.length);
      expect(bytes / gz.length).toBeLessThan(DEFAULT_OBJECT_LIMITS.maxCompressionRatio / 2);
    });

    it("a line nested far deeper than any log is a bad line; the lines around it are read", async () => {
      const deep = "[".repeat(100_000) + "]".repeat(100_000);
      const deepMessage = `{"message":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}`;
      // Shorter than the scan's threshold, deep enough to overflow JSON.stringify's stack.
      const midDeep = `{"log":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
      const text = [line(1), deep, line(2), deepMessage, line(3), midDeep, line(4)].join("\n");
      const { events, stats } = await readAll(Buffer.from(text), 4096);
      expect(events.map((e) => e.message.split(" ").slice(0, 2).join(" "))).toEqual([
        "event 1",
        "event 2",
        "event 3",
        "event 4",
      ]);
      expect(stats.badSamples).toEqual([
        { line: 3, reason: "JSON nested deeper than 1000 levels" },
        { line: 6, reason: "JSON nested deeper than 1000 levels" },
        {
          line: 9,
          reason: expect.stringMatching(
            /^record nested too deep to read \(Maximum call stack size exceeded\)$/,
          ),
        },
      ]);
    });

    it("brackets inside strings do not count toward the depth", () => {
      expect(nestedDeeperThan(`{"message":"${"[".repeat(5000)}"}`, 10)).toBe(false);
      // An escaped backslash, then the closing quote: the brackets after it are outside the string.
      expect(nestedDeeperThan(`{"message":"\\\\"${"[".repeat(11)}`, 10)).toBe(true);
      expect(nestedDeeperThan(`{"m":"a\\"[[[[[[[[[[[["}`, 10)).toBe(false);
    });
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

  it("marks a chunk ascii only when every message's UTF-8 size is its length", async () => {
    const chunkFlags = async (text: string) => {
      const flags: (boolean | undefined)[] = [];
      async function* source() {
        yield Buffer.from(text);
      }
      for await (const chunk of readLogEvents(source(), { fallbackTimestampMs: 1 })) {
        flags.push(chunk.ascii);
        if (chunk.ascii) for (const e of chunk) expect(Buffer.byteLength(e.message)).toBe(e.message.length);
      }
      return flags;
    };
    expect(await chunkFlags(`${lines[0]}\n{"msg":"tab\\t quote\\" end"}\n`)).toEqual([true]);
    expect(await chunkFlags(`${lines[1]}\n`)).toEqual([undefined]);
    // ASCII bytes, but an escape that decodes to "é" (2 bytes) or to a surrogate pair (4 bytes).
    expect(await chunkFlags('{"message":"caf\\u00e9"}\n')).toEqual([undefined]);
    expect(await chunkFlags('{"message":{"k":"\\ud83d\\ude00"}}')).toEqual([undefined]);
  });

  it("cuts large chunks into decoding windows at line ends, long lines and multi-byte text intact", async () => {
    const many = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({
        message: `${i} ${"é€".repeat(i % 40)} ${"x".repeat(i % 90)}`,
        timestamp: 1763632800000 + i,
      }),
    );
    // One line longer than a whole decoding window (64 KB), between the others.
    many.splice(1500, 0, JSON.stringify({ message: "€".repeat(40_000), timestamp: 1763632800000 }));
    const text = `${many.join("\n")}\n`;
    for (const chunkSize of [256 * 1024, 70_001, 1_000_000]) {
      const { events, stats } = await readAll(Buffer.from(text), chunkSize);
      expect(stats).toMatchObject({ lines: 3001, events: 3001, badLines: 0 });
      expect(events.map((e) => e.message)).toEqual(many.map((l) => (JSON.parse(l) as LogEvent).message));
    }
  });

  it("numbers the lines after a refused long line that spans many chunks", async () => {
    const text = `${lines[0]}\n{"message":"${"y".repeat(3000)}"}\nnot json\n${lines[1]}`;
    const { events, stats } = await readAll(Buffer.from(text), 64, 1000);
    expect(events.map((e) => e.message)).toEqual(["one", "zwei ü €"]);
    expect(stats.badSamples).toEqual([
      { line: 2, reason: "line longer than 1000 bytes" },
      { line: 3, reason: "not JSON" },
    ]);
  });

  it("reads any mix of lines as JSON.parse and the field rules do, lines of a learned shape included", async () => {
    const T1 = "2026-11-29T08:00:00.123456789Z";
    const T2 = "2026-11-29T08:00:01Z";
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(values: readonly T[]): T => values[rand(values.length)]!;
    const pieces = [
      "a",
      " ",
      '"',
      "\\",
      "\\n",
      "\\u00e9",
      "\\ud83d",
      "é",
      "€",
      "\t",
      "\u0001",
      '","timestamp":"',
      T1,
      "}",
      "{",
    ];
    const rawMessage = () => Array.from({ length: rand(6) }, () => pick(pieces)).join("");
    const times = [
      T1,
      T2,
      "2026-11-29T08:00:01.5Z",
      "2026-02-30T00:00:00Z",
      "1763632800",
      "2026-11-29 08:00:01",
      `${T1}\\"`,
    ];
    const shapes = [
      (m: string, t: string) =>
        `{"message":"${m}","timestamp":"${t}","tenant_id":"acme","kubernetes":{"pod":"p"}}`,
      (m: string, t: string) => `{"application":"a","message":"${m}","stream":"stdout","timestamp":"${t}"}`,
      (m: string, t: string) => `{"application":"a","message":"${m}","stream":"stderr","timestamp":"${t}"}`,
      (m: string, t: string) => `{"timestamp":"${t}","message":"${m}"}`,
      (m: string, t: string) => `{"message":"${m}","timestamp":"${t}","message":"dup"}`,
      (m: string, t: string) => `{"message":${m.length % 2 ? 7 : `"${m}"`},"timestamp":"${t}"}`,
    ];
    const mutate = (line: string) => {
      const at = rand(line.length + 1);
      return pick([
        () => line,
        () => line,
        () => line,
        () => line.slice(0, at) + line.slice(at + 1),
        () => line.slice(0, at) + pick(pieces) + line.slice(at),
      ])();
    };
    const lines = Array.from({ length: 4000 }, () => mutate(pick(shapes)(rawMessage(), pick(times))));
    const text = `${lines.join("\n")}\n`;

    const expected: LogEvent[] = [];
    let badLines = 0;
    for (const line of lines) {
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch {
        if (line.trim() !== "") badLines++;
        continue;
      }
      for (const record of Array.isArray(doc) ? doc : [doc]) {
        const event = recordToEvent(record, 42);
        if (typeof event === "string") badLines++;
        else expected.push(event);
      }
    }
    const { events, stats } = await readAll(Buffer.from(text), 1000);
    expect(events).toEqual(expected);
    expect(stats).toMatchObject({ events: expected.length, badLines });
    // The draw covers both sides: lines read by their shape and lines the full parse refused.
    expect(expected.length).toBeGreaterThan(2000);
    expect(badLines).toBeGreaterThan(300);
  });

  it("yields nothing for an empty object", async () => {
    expect((await readAll(Buffer.alloc(0))).events).toEqual([]);
  });
});
