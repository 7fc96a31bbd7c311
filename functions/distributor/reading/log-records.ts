import { parseTimestamp } from "../../shared/timestamps";
import { CorruptObjectError, ObjectCapError } from "../errors";
import { DEFAULT_OBJECT_LIMITS, decompress, type ObjectLimits } from "./decompress";
import { LineShapes, vectorTimeMs } from "./line-shapes";
import { LineCutter } from "./lines";

export { parseTimestamp } from "../../shared/timestamps";

/** One event as CloudWatch Logs takes it. */
export interface LogEvent {
  /** Milliseconds since the epoch. */
  timestamp: number;
  message: string;
  /** The staged record the event was read from, when the read keeps records (ReadOptions.records). */
  record?: Record<string, unknown>;
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
  /** What the object may inflate to. @default DEFAULT_OBJECT_LIMITS */
  readonly limits?: ObjectLimits;
  /** Keep each event's record (filters on its fields, destinations that send records). @default false */
  readonly records?: boolean;
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
/**
 * Deepest JSON nesting a line may have. No log comes near it; a line nested far deeper costs
 * memory to parse and overflows the stack of any recursive walk (JSON.stringify included).
 */
export const MAX_JSON_DEPTH = 1000;
/** Lines shorter than this cannot nest deep enough to matter and are not scanned. */
const DEPTH_SCAN_MIN_CHARS = 64 * 1024;

/** Whether `line`'s brackets nest deeper than `max` (outside strings); stops at the first level past it. */
export function nestedDeeperThan(line: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

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
export function recordToEvent(record: unknown, fallbackTimestampMs: number, keep = false): LogEvent | string {
  if (typeof record !== "object" || record === null || Array.isArray(record))
    return "record is not a JSON object";
  const r = record as Record<string, unknown>;
  const event = readEvent(r, fallbackTimestampMs);
  if (keep) event.record = r;
  return event;
}

function readEvent(r: Record<string, unknown>, fallbackTimestampMs: number): LogEvent {
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
 * Streams an object (gzipped or plain NDJSON; a line may also hold a JSON array of records) and
 * yields the events of each chunk as an array. Memory stays bounded by one chunk plus one line.
 * Bad lines are counted in `stats` and reported, never fatal; a corrupt gzip stream throws
 * CorruptObjectError after the events before the damage were yielded. A line of a shape seen
 * earlier in the object is read by its message alone (LineShapes), with the answer the full parse
 * would give.
 */
export async function* readLogEvents(
  source: AsyncIterable<Uint8Array>,
  options: ReadOptions,
  stats: ReadStats = newReadStats(),
): AsyncGenerator<EventChunk> {
  const shapes = new LineShapes();
  let out: EventChunk = [];
  const addRecord = (record: unknown, lineNo: number) => {
    let event: LogEvent | string;
    try {
      event = recordToEvent(record, options.fallbackTimestampMs, options.records);
    } catch (error) {
      // A record nested too deep for JSON.stringify (the depth scan skips short lines).
      if (!(error instanceof RangeError)) throw error;
      event = `record nested too deep to read (${error.message})`;
    }
    if (typeof event === "string") recordBadLine(stats, lineNo, event);
    else {
      stats.events++;
      out.push(event);
    }
  };
  const parseLine = (line: string, lineNo: number) => {
    // A line read by its shape has no record: reads that keep records parse every line.
    const known = options.records ? undefined : shapes.read(line);
    if (known !== undefined) {
      stats.lines++;
      stats.events++;
      out.push(known);
      return;
    }
    if (line.length >= DEPTH_SCAN_MIN_CHARS && nestedDeeperThan(line, MAX_JSON_DEPTH)) {
      stats.lines++;
      recordBadLine(stats, lineNo, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    let doc: unknown;
    try {
      // JSON's whitespace includes the "\r" of a CRLF ending.
      doc = JSON.parse(line);
    } catch {
      if (line.trim().length === 0) return;
      stats.lines++;
      recordBadLine(stats, lineNo, "not JSON");
      return;
    }
    stats.lines++;
    if (Array.isArray(doc)) {
      for (const record of doc) addRecord(record, lineNo);
    } else {
      addRecord(doc, lineNo);
      if (!options.records) shapes.learn(line, doc);
    }
  };
  const lines = new LineCutter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, parseLine, (lineNo, max) =>
    recordBadLine(stats, lineNo, `line longer than ${max} bytes`),
  );
  /** The events parsed since the last call, marked ASCII when `ascii`. */
  const take = (ascii: boolean): EventChunk => {
    const chunk = out;
    out = [];
    if (ascii) chunk.ascii = true;
    return chunk;
  };
  const chunks = decompress(source, options.limits ?? DEFAULT_OBJECT_LIMITS)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch (error) {
      if (error instanceof ObjectCapError)
        throw new ObjectCapError(`${error.message} after line ${lines.lineNo}`);
      if (!(error instanceof CorruptObjectError)) throw error;
      throw new CorruptObjectError(`${error.message} (damage after line ${lines.lineNo})`);
    }
    if (next.done) break;
    stats.bytes += next.value.length;
    const ascii = lines.push(next.value);
    if (out.length > 0) yield take(ascii);
  }
  const ascii = lines.end();
  if (out.length > 0) yield take(ascii);
}

export function newReadStats(): ReadStats {
  return { lines: 0, events: 0, badLines: 0, badSamples: [], bytes: 0 };
}
