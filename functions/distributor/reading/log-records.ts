import { isAscii } from "node:buffer";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { parseTimestamp } from "../../shared/timestamps";
import { CorruptObjectError } from "../errors";
import { LineShapes, vectorTimeMs } from "./line-shapes";

export { parseTimestamp } from "../../shared/timestamps";

/** One event as CloudWatch Logs takes it. */
export interface LogEvent {
  /** Milliseconds since the epoch. */
  timestamp: number;
  message: string;
}

export interface ReadStats {
  /** Non-empty lines seen. */
  lines: number;
  events: number;
  badLines: number;
  /** Up to MAX_BAD_SAMPLES examples: line number and why it was refused. */
  badSamples: { line: number; reason: string }[];
  /** Uncompressed bytes read. */
  bytes: number;
}

export interface ReadOptions {
  /** Used when a record has no usable timestamp: the object's creation time. */
  readonly fallbackTimestampMs: number;
  /** A line longer than this (bytes) is refused as bad instead of growing memory. */
  readonly maxLineBytes?: number;
}

export const MAX_BAD_SAMPLES = 5;

/** Counts a line (or row) that could not be used, keeping the first `maxSamples` with their reason. */
export function recordBadLine(
  stats: Pick<ReadStats, "badLines" | "badSamples">,
  line: number,
  reason: string,
  maxSamples = MAX_BAD_SAMPLES,
): void {
  stats.badLines++;
  if (stats.badSamples.length < maxSamples) stats.badSamples.push({ line, reason });
}
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Fields that carry the event text, in order of preference. */
const MESSAGE_FIELDS = ["message", "msg", "log"] as const;
/** Fields that carry the event time, in order of preference (Vector, ECS, logfmt-ish, k8s audit). */
const TIME_FIELDS = [
  "timestamp",
  "@timestamp",
  "time",
  "ts",
  "date",
  "eventTime",
  "requestReceivedTimestamp",
  "stageTimestamp",
] as const;

/** Turns one decoded record into an event, or returns why it cannot be one. */
export function recordToEvent(record: unknown, fallbackTimestampMs: number): LogEvent | string {
  if (typeof record !== "object" || record === null || Array.isArray(record))
    return "record is not a JSON object";
  const r = record as Record<string, unknown>;
  // Vector's own shape first (a string message, an ISO timestamp): named loads, no field loop.
  const ms = vectorTimeMs(r);
  if (ms !== undefined) return { timestamp: ms, message: r.message as string };
  let message: string | undefined;
  for (const f of MESSAGE_FIELDS) {
    const v = r[f];
    if (typeof v === "string") {
      message = v;
      break;
    }
    if (v !== undefined && v !== null) {
      message = JSON.stringify(v);
      break;
    }
  }
  if (message === undefined) message = JSON.stringify(r);
  let timestamp: number | undefined;
  for (const f of TIME_FIELDS) {
    if (r[f] !== undefined) {
      timestamp = parseTimestamp(r[f]);
      if (timestamp !== undefined) break;
    }
  }
  return { timestamp: timestamp ?? fallbackTimestampMs, message };
}

/**
 * A readable's chunks, taken as its "data" events come (at most `ahead` of them queued, then it is
 * paused): cheaper per chunk than the stream's async iterator, and the inflater is asked for the
 * next chunk as soon as one is taken, not when the reader comes back for it.
 */
async function* flowing(stream: Readable, ahead = 4): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    queue.push(chunk);
    if (queue.length >= ahead) stream.pause();
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  const onError = (error: unknown) => {
    failure = error;
    wake?.();
  };
  stream.on("data", onData).once("end", onEnd).once("error", onError);
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        if (stream.isPaused() && queue.length < ahead) stream.resume();
        yield chunk;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    stream.off("data", onData).off("end", onEnd).off("error", onError);
    if (!ended) stream.destroy();
  }
}

/** Yields the object's bytes, gunzipped when they start with the gzip magic number. */
export async function* decompress(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = Buffer.from(first.value);
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    yield head;
    for await (const chunk of rest) yield Buffer.from(chunk);
    return;
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield head;
    yield* rest;
  }
  // 256 KB of output per inflate call instead of zlib's 16 KB: 16 times fewer round trips to the
  // thread pool, where the reader sat idle (the bench's path: 0.93-1.10 s became 0.74-0.95 s).
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const piping = pipeline(Readable.from(all()), gunzip);
  piping.catch(() => undefined); // errors surface through the iteration below
  try {
    yield* flowing(gunzip);
    await piping;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("Z_")) {
      throw new CorruptObjectError(`object is not valid gzip: ${(e as Error).message}`);
    }
    throw e;
  }
}

/**
 * A chunk of events. `ascii`: every message is ASCII, so its UTF-8 size is its length (read it
 * with messageBytes, which knows).
 */
export type EventChunk = LogEvent[] & { ascii?: boolean };

/** The UTF-8 size of the message of `chunk[index]`, measured only where the reader does not know it. */
export function messageBytes(chunk: EventChunk, index: number): number {
  const message = chunk[index]!.message;
  return chunk.ascii === true ? message.length : Buffer.byteLength(message, "utf8");
}

/**
 * Lines are decoded in pieces of about this many bytes: a string under V8's large-object size
 * (128 KB) is made and dropped in the young generation; a larger one costs a full collection
 * (decoding the 110 MB bench object took 100-120 ms in 256 KB strings, 20-22 ms in 64 KB ones).
 */
const DECODE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Streams an object (gzipped or plain NDJSON; a line may also hold a JSON array of records) and
 * yields the events of each chunk as an array. Memory stays bounded by one chunk plus one line.
 * Bad lines are counted in `stats` and reported, never fatal; a corrupt gzip stream throws
 * CorruptObjectError after the events before the damage were yielded.
 *
 * Lines are cut in the bytes, before decoding: a newline byte never occurs inside a UTF-8
 * sequence, so a cut there never splits a character, and no decoder state is carried. A line of a
 * shape seen earlier in the object is read by its message alone (LineShapes), with the answer the
 * full parse would give.
 */
export async function* readLogEvents(
  source: AsyncIterable<Uint8Array>,
  options: ReadOptions,
  stats: ReadStats = newReadStats(),
): AsyncGenerator<EventChunk> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let lineNo = 0;
  /** The bytes of the line not yet ended, in the pieces they came in. */
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let skippingLongLine = false;

  const shapes = new LineShapes();

  const bad = (reason: string) => recordBadLine(stats, lineNo, reason);
  const parseLine = (line: string, out: LogEvent[]) => {
    lineNo++;
    if (line.length === 0) return;
    const known = shapes.read(line);
    if (known !== undefined) {
      stats.lines++;
      stats.events++;
      out.push(known);
      return;
    }
    let doc: unknown;
    try {
      // JSON's whitespace includes the "\r" of a CRLF ending.
      doc = JSON.parse(line);
    } catch {
      if (line.trim().length === 0) return;
      stats.lines++;
      bad("not JSON");
      return;
    }
    stats.lines++;
    if (Array.isArray(doc)) {
      for (const record of doc) addRecord(record, out);
    } else {
      addRecord(doc, out);
      shapes.learn(line, doc);
    }
  };
  const addRecord = (record: unknown, out: LogEvent[]) => {
    const event = recordToEvent(record, options.fallbackTimestampMs);
    if (typeof event === "string") bad(event);
    else {
      stats.events++;
      out.push(event);
    }
  };
  /**
   * Parses the lines in bytes [from, to): whole lines, and at the object's end its last line
   * without a newline. True if the text is ASCII, so every message's UTF-8 size is its length.
   */
  const parseLines = (bytes: Buffer, from: number, to: number, out: LogEvent[]): boolean => {
    // ASCII is its own Latin-1, which decodes as a plain copy.
    const ascii = isAscii(bytes.subarray(from, to));
    const text = bytes.toString(ascii ? "latin1" : "utf8", from, to);
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      parseLine(text.slice(start, nl), out);
      start = nl + 1;
    }
    if (start < text.length) parseLine(text.slice(start), out);
    // A "\u" escape may stand for a character outside ASCII.
    return ascii && !text.includes("\\u");
  };

  const chunks = decompress(source)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch (error) {
      if (!(error instanceof CorruptObjectError)) throw error;
      throw new CorruptObjectError(`${error.message} (damage after line ${lineNo})`);
    }
    if (next.done) break;
    const chunk = next.value;
    stats.bytes += chunk.length;
    const out: EventChunk = [];
    let ascii = true;
    const last = chunk.lastIndexOf(NEWLINE);
    let pos = 0;
    if (last !== -1) {
      // The line begun in earlier chunks ends at the first newline here.
      const first = chunk.indexOf(NEWLINE) + 1;
      if (skippingLongLine) {
        skippingLongLine = false;
        lineNo++;
        pos = first;
      } else if (carryBytes > 0) {
        const line = Buffer.concat([...carry, chunk.subarray(0, first)]);
        ascii = parseLines(line, 0, line.length, out);
        pos = first;
      }
      carry = [];
      carryBytes = 0;
      while (pos <= last) {
        let cut = last + 1;
        if (cut - pos > DECODE_BYTES) {
          cut = chunk.lastIndexOf(NEWLINE, pos + DECODE_BYTES) + 1;
          if (cut <= pos) cut = chunk.indexOf(NEWLINE, pos + DECODE_BYTES) + 1; // one long line
        }
        if (!parseLines(chunk, pos, cut, out)) ascii = false;
        pos = cut;
      }
    }
    if (!skippingLongLine && pos < chunk.length) {
      carry.push(chunk.subarray(pos));
      carryBytes += chunk.length - pos;
      if (carryBytes > maxLine) {
        // Refused now, without holding it; skipped up to its end, where its number is counted.
        recordBadLine(stats, lineNo + 1, `line longer than ${maxLine} bytes`);
        skippingLongLine = true;
        carry = [];
        carryBytes = 0;
      }
    }
    if (out.length > 0) {
      if (ascii) out.ascii = true;
      yield out;
    }
  }
  if (!skippingLongLine && carryBytes > 0) {
    const out: EventChunk = [];
    const tail = Buffer.concat(carry);
    if (parseLines(tail, 0, tail.length, out)) out.ascii = true;
    if (out.length > 0) yield out;
  }
}

export function newReadStats(): ReadStats {
  return { lines: 0, events: 0, badLines: 0, badSamples: [], bytes: 0 };
}
