import { LineShapes } from "../../../../../functions/distributor/reading/line-shapes";
import { type LogEvent, recordToEvent } from "../../../../../functions/distributor/reading/log-records";

const T1 = "2026-11-29T08:00:00.123456789Z";
const T2 = "2026-11-29T08:00:01Z";

/** A line as the collector writes it: Vector prints a record's keys in sorted order. */
const vectorLine = (message: string, timestamp: string, stream = "stdout") =>
  JSON.stringify({
    application: "payments",
    cluster_id: "cluster-1",
    container: "app",
    message,
    namespace: "acme-prod",
    pod_name: "payments-5f7c9-abcde",
    stream,
    tenant_id: "acme",
    timestamp,
  });

/** Lines that share no shape: each record has its own sequence number. */
const seqLine = (i: number) => JSON.stringify({ message: "m", timestamp: T1, seq: i });

/** What the full parse makes of a line (JSON.parse, then the field rules), or undefined. */
function fullParse(line: string): LogEvent | undefined {
  try {
    const event = recordToEvent(JSON.parse(line), 0);
    return typeof event === "string" ? undefined : event;
  } catch {
    return undefined;
  }
}

/** A LineShapes that has learned from these lines. */
function learned(...lines: string[]): LineShapes {
  const shapes = new LineShapes();
  for (const line of lines) shapes.learn(line, JSON.parse(line));
  return shapes;
}

describe("LineShapes", () => {
  it("reads the collector's lines by their shape once it has seen one", () => {
    const shapes = new LineShapes();
    const first = vectorLine("GET /health 200", T1);
    expect(shapes.read(first)).toBeUndefined();
    shapes.learn(first, JSON.parse(first));
    for (const message of [
      '{"order":1,"items":[{"sku":"a\\"b"}]}',
      "é ü €",
      "tab\there",
      "",
      '","timestamp":"x',
    ]) {
      const line = vectorLine(message, T2);
      expect(shapes.read(line)).toEqual({ message, timestamp: Date.parse(T2) });
      expect(shapes.read(line)).toEqual(fullParse(line));
    }
  });

  it("reads lines with the time first, spaces around colons and a CRLF ending", () => {
    const line = (m: string, t: string) =>
      `{ "timestamp" : ${JSON.stringify(t)}, "message" : ${JSON.stringify(m)}, "k": [1, {"a": null}] }\r`;
    const shapes = learned(line("one", T1));
    expect(shapes.read(line('two \\ "quoted"', T2))).toEqual({
      message: 'two \\ "quoted"',
      timestamp: Date.parse(T2),
    });
  });

  it("reads escapes as JSON does: \\u sequences, surrogate pairs, \\/ ", () => {
    const shapes = learned(vectorLine("x", T1));
    const line = vectorLine("x", T2).replace(
      '"message":"x"',
      '"message":"\\u00e9 \\ud83d\\ude00 \\/ \\u0000"',
    );
    expect(shapes.read(line)).toEqual({ message: "é 😀 / \u0000", timestamp: Date.parse(T2) });
  });

  it("leaves to the full parse every line of a known shape that is not Vector's record", () => {
    const shapes = learned(vectorLine("x", T1));
    const known = vectorLine("x", T2);
    const variants = [
      known.replace('"message":"x"', '"message":"raw\tcontrol"'), // not JSON
      known.replace('"message":"x"', '"message":"unterminated'),
      known.replace('"message":"x"', '"message":"a" "b"'),
      known.replace('"message":"x"', '"message":"a\\q"'), // bad escape
      known.replace('"message":"x"', '"message":42'),
      known.replace('"message":"x"', '"message":{"a":"b"}'),
      known.replace(T2, "1763632800"),
      known.replace(T2, "2026-11-29 08:00:01"),
      known.replace(T2, `${T2}\\"`),
      known.replace('"stream":"stdout"', '"stream":"stderr"'), // another shape, not learned yet
      `${known}x`,
      known.slice(1),
    ];
    for (const line of variants) expect([line, shapes.read(line)]).toEqual([line, undefined]);
    const timeFirst = (m: string, t: string, k = "k") =>
      `{"timestamp":"${t}","${k}":1,"message":${JSON.stringify(m)}}`;
    const learnedTimeFirst = learned(timeFirst("x", T1));
    expect(learnedTimeFirst.read(timeFirst("y", T2))).toBeDefined();
    expect(learnedTimeFirst.read(timeFirst("y", T2, "j"))).toBeUndefined();
  });

  it("learns no shape whose constant text overrides the message or time (a later duplicate key wins)", () => {
    const line = (m: string, t: string) =>
      `{"message":${JSON.stringify(m)},"timestamp":"${t}","message":"constant"}`;
    const shapes = learned(line("one", T1));
    expect(shapes.read(line("two", T2))).toBeUndefined();
    expect(fullParse(line("two", T2))).toEqual({ message: "constant", timestamp: Date.parse(T2) });
    const laterTime = (m: string, t: string) =>
      `{"message":${JSON.stringify(m)},"timestamp":"${t}","timestamp":"${T1}"}`;
    expect(learned(laterTime("one", T2)).read(laterTime("two", T2))).toBeUndefined();
    // A constant that happens to equal one probe's marker is caught by the other probe.
    const markerDup = (m: string) =>
      `{"message":${JSON.stringify(m)},"timestamp":"${T1}","message":"\\u0001"}`;
    expect(learned(markerDup("one")).read(markerDup("two"))).toBeUndefined();
  });

  it("learns no shape from a record that is not Vector's, or a key found first in a nested object", () => {
    const nested = (m: string) =>
      `{"kubernetes":{"message":"n"},"message":${JSON.stringify(m)},"timestamp":"${T1}"}`;
    expect(learned(nested("one")).read(nested("two"))).toBeUndefined();
    const epoch = (m: string) => `{"message":${JSON.stringify(m)},"timestamp":1763632800}`;
    expect(learned(epoch("one")).read(epoch("two"))).toBeUndefined();
  });

  it("learns no shape of more than 4,096 constant characters (its memory stays bounded)", () => {
    const line = (m: string, pad: number) =>
      JSON.stringify({ message: m, timestamp: T1, labels: "x".repeat(pad) });
    const overhead = line("", 0).length - 2 - (T1.length + 2); // the constant text without padding
    expect(learned(line("a", 4096 - overhead)).read(line("b", 4096 - overhead))).toBeDefined();
    expect(learned(line("a", 4097 - overhead)).read(line("b", 4097 - overhead))).toBeUndefined();
  });

  it("keeps 16 shapes", () => {
    const streams = Array.from({ length: 17 }, (_, i) => `s${i}`);
    const shapes = learned(...streams.map((s) => vectorLine("x", T1, s)));
    const reads = streams.map((s) => shapes.read(vectorLine("y", T2, s)) !== undefined);
    expect(reads.filter(Boolean)).toHaveLength(16);
  });

  it("tries a new shape only on lines the others did not read, so a rare one outlives its probation", () => {
    const shapes = learned(...["stdout", "stderr", "other"].map((s) => vectorLine("x", T1, s)));
    for (let i = 0; i < 50; i++) {
      expect(shapes.read(vectorLine(`o${i}`, T2, "stdout"))).toBeDefined();
      expect(shapes.read(vectorLine(`t${i}`, T2, "other"))).toBeDefined();
    }
    expect(shapes.read(vectorLine("e", T2, "stderr"))).toBeDefined();
  });

  it("learns from a message with escaped quotes and backslashes before its closing quote", () => {
    const shapes = learned(vectorLine('say "hi" \\', T1));
    expect(shapes.read(vectorLine("next", T2))).toEqual({ message: "next", timestamp: Date.parse(T2) });
  });

  it("drops a shape that matched none of the 8 lines after it was learned, and keeps one that did", () => {
    const unused = learned(vectorLine("x", T1));
    for (let i = 0; i < 7; i++) unused.read(seqLine(i));
    expect(unused.read(vectorLine("y", T2))).toBeDefined(); // 7 misses: still kept
    const dropped = learned(vectorLine("x", T1));
    for (let i = 0; i < 8; i++) dropped.read(seqLine(i));
    expect(dropped.read(vectorLine("y", T2))).toBeUndefined();
    const used = learned(vectorLine("x", T1));
    expect(used.read(vectorLine("y", T2))).toBeDefined();
    for (let i = 0; i < 100; i++) used.read(seqLine(i));
    expect(used.read(vectorLine("z", T2))).toBeDefined();
  });

  it("backs off learning while its shapes go unmatched, and learns from every line again after a match", () => {
    const shapes = new LineShapes();
    /** As the reader does: a line no shape reads is parsed whole and learned from. */
    const feed = (line: string) => {
      const known = shapes.read(line) !== undefined;
      if (!known) shapes.learn(line, JSON.parse(line));
      return known;
    };
    // Lines that share no shape: each is learned from at first, then fewer and fewer.
    for (let i = 0; i < 8; i++) feed(seqLine(i));
    expect(shapes.tries).toBe(8);
    for (let i = 20; i < 5000; i++) feed(seqLine(i));
    expect(shapes.tries).toBeLessThan(40);
    // Lines of one shape are learned within 1,024 lines, and from then on read by it.
    const reads = Array.from({ length: 1100 }, (_, i) => feed(vectorLine(`m${i}`, T2)));
    const first = reads.indexOf(true);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(1024);
    expect(reads.slice(first).every(Boolean)).toBe(true);
    // That match set learning back to every line: a new shape is read from its second line.
    expect(feed(vectorLine("e", T2, "stderr"))).toBe(false);
    expect(feed(vectorLine("f", T2, "stderr"))).toBe(true);
  });
});
