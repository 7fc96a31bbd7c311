import { isoUtcMs } from "../../shared/timestamps";
import type { LogEvent } from "./log-records";

/**
 * The lines of one object mostly differ only in their message and time: the collector writes the
 * same pod's metadata (tenant, cluster, namespace, pod, stream, ...) around every event. A line of
 * a known shape is read by parsing its message's string literal alone, not the whole record, and
 * allocates no record (what it saves is in bench/RESULTS.md).
 *
 * A shape is the constant text around two string literals, the record's `message` and its
 * `timestamp`: `head + first + middle + second + tail`, the message first or the time first. It is
 * learned from a line the full parse read, and proven once: that text with two pairs of marker
 * literals must parse to a record whose message and timestamp are the markers. Then the text around
 * is valid JSON wherever two string literals stand, and no constant member overrides the two (a
 * later duplicate key would win in JSON.parse, and would give the same value for both pairs).
 * JSON's grammar reads a string literal as one token, with optional whitespace around it, so a line
 * that is the shape with any valid literals parses to a record with those values, and
 * `recordToEvent` reads it as the message and the ISO time. Matching checks exactly that:
 * - the message's text is one JSON string value (JSON.parse of it alone, which also validates it);
 * - the time's text is an ISO time that `isoUtcMs` reads (only digits and `-T:.Z`, so it holds no
 *   quote, backslash or control character and ends at the next quote).
 * Anything else is left to the full parse, which gives the same answer by the field rules.
 */
interface Shape {
  readonly messageFirst: boolean;
  readonly head: string;
  readonly middle: string;
  readonly tail: string;
  /** Lines it matched. */
  hits: number;
  /** Lines it missed before its first hit. */
  misses: number;
}

/** Shapes kept per object: a pod's lines vary in a few fields (stream, level), not more. */
const MAX_SHAPES = 16;
/**
 * A shape that matches none of the first PROBATION lines tried on it after it was learned (lines
 * no other shape read) is dropped.
 */
const PROBATION = 8;
/**
 * Learning backs off: each shape dropped (or line not learnable) doubles the number of unmatched
 * lines before the next try, up to MAX_INTERVAL; a shape's first match sets it back to every line.
 * So an object whose lines share no shape (a sequence number in every record) pays for a few
 * hundred tries, not one per line.
 */
const MAX_INTERVAL = 1024;
/**
 * A shape's constant text is at most this many characters (the collector's metadata is a few
 * hundred): what the shapes of an object hold stays under 16 x 4 K characters, whatever its lines.
 */
const MAX_SHAPE_CHARS = 4096;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The time of a record in Vector's shape, a string `message` and an ISO `timestamp`; undefined for
 * any other record. The one rule for it: `recordToEvent` answers by it first, and a line shape is
 * learned only from such a record and reads its lines as that answer. It returns the time, not an
 * event: the hot path builds each event once, in the caller.
 */
export function vectorTimeMs(record: Record<string, unknown>): number | undefined {
  const timestamp = record.timestamp;
  return typeof record.message === "string" && typeof timestamp === "string"
    ? isoUtcMs(timestamp)
    : undefined;
}

/** The string a JSON text stands for, or undefined when it is not exactly one string value. */
function jsonString(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === "string" ? value : undefined;
}

/**
 * True when `line` holds `part` at `at`. A slice compared with === is compared as memory, where
 * String.prototype.startsWith and endsWith went a character at a time: 330-355 ns for 100
 * characters here, against about 55 ns.
 */
function holdsAt(line: string, part: string, at: number): boolean {
  return at >= 0 && at + part.length <= line.length && line.slice(at, at + part.length) === part;
}

function read(shape: Shape, line: string): LogEvent | undefined {
  const { head, middle, tail } = shape;
  const end = line.length - tail.length;
  if (!holdsAt(line, head, 0) || !holdsAt(line, tail, end)) return undefined;
  let timestamp: number | undefined;
  let literal: string;
  if (shape.messageFirst) {
    // head "message" middle "time" tail: the time's opening quote is the last quote before its end.
    const close = end - 1;
    if (line.charCodeAt(close) !== QUOTE) return undefined;
    const open = line.lastIndexOf('"', close - 1);
    const messageEnd = open - middle.length;
    if (messageEnd < head.length + 2 || !holdsAt(line, middle, messageEnd)) return undefined;
    timestamp = isoUtcMs(line, open + 1, close);
    if (timestamp === undefined) return undefined;
    literal = line.slice(head.length, messageEnd);
  } else {
    // head "time" middle "message" tail: the time ends at the first quote after its start.
    const open = head.length;
    if (line.charCodeAt(open) !== QUOTE) return undefined;
    const close = line.indexOf('"', open + 1);
    if (close === -1 || !holdsAt(line, middle, close + 1)) return undefined;
    const messageStart = close + 1 + middle.length;
    if (end < messageStart + 2) return undefined;
    timestamp = isoUtcMs(line, open + 1, close);
    if (timestamp === undefined) return undefined;
    literal = line.slice(messageStart, end);
  }
  const message = jsonString(literal);
  return message === undefined ? undefined : { timestamp, message };
}

/** A string of its own, not a slice that keeps its line's decoding window (64 KB) alive. */
function copyOf(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

/** Where the string value of `key`'s first member in `line` stands: [its opening quote, after its closing one). */
function literalOf(line: string, key: string): [number, number] | undefined {
  const at = line.indexOf(`"${key}"`);
  if (at === -1) return undefined;
  let i = at + key.length + 2;
  while (line.charCodeAt(i) === 0x20) i++;
  if (line.charCodeAt(i) !== 0x3a) return undefined; // ":"
  i++;
  while (line.charCodeAt(i) === 0x20) i++;
  const open = i;
  if (line.charCodeAt(open) !== QUOTE) return undefined;
  // The closing quote is the first one after an even run of backslashes.
  for (let quote = line.indexOf('"', open + 1); quote !== -1; quote = line.indexOf('"', quote + 1)) {
    let before = quote - 1;
    while (line.charCodeAt(before) === BACKSLASH) before--;
    if ((quote - 1 - before) % 2 === 0) return [open, quote + 1];
  }
  return undefined;
}

/** True when the shape's text, with these two literals, parses to a record holding exactly them. */
function holds(shape: Shape, message: string, time: string): boolean {
  const [first, second] = shape.messageFirst ? [message, time] : [time, message];
  let record: unknown;
  try {
    record = JSON.parse(
      shape.head + JSON.stringify(first) + shape.middle + JSON.stringify(second) + shape.tail,
    );
  } catch {
    return false;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) return false;
  const r = record as Record<string, unknown>;
  return r.message === message && r.timestamp === time;
}

/** The proven shape of a line whose record is Vector's, or undefined. */
function shapeOf(line: string): Shape | undefined {
  const m = literalOf(line, "message");
  const t = literalOf(line, "timestamp");
  if (m === undefined || t === undefined) return undefined;
  const messageFirst = m[0] < t[0];
  const [first, second] = messageFirst ? [m, t] : [t, m];
  if (line.length - (first[1] - first[0]) - (second[1] - second[0]) > MAX_SHAPE_CHARS) return undefined;
  const shape: Shape = {
    messageFirst,
    head: line.slice(0, first[0]),
    middle: line.slice(first[1], second[0]),
    tail: line.slice(second[1]),
    hits: 0,
    misses: 0,
  };
  if (!holds(shape, "\u0001", "\u0002") || !holds(shape, "\u0003", "\u0004")) return undefined;
  return { ...shape, head: copyOf(shape.head), middle: copyOf(shape.middle), tail: copyOf(shape.tail) };
}

/** The line shapes of one object: learned from lines the full parse read, then matched first. */
export class LineShapes {
  private readonly shapes: Shape[] = [];
  /** Unmatched lines between two tries to learn. */
  private interval = 1;
  private missesSinceLearn = 0;
  private learnTries = 0;

  /** Tries to learn a shape so far. */
  get tries(): number {
    return this.learnTries;
  }

  /** The event of a line of a known shape; undefined when the line needs the full parse. */
  read(line: string): LogEvent | undefined {
    const shapes = this.shapes;
    for (let i = 0; i < shapes.length; i++) {
      const shape = shapes[i]!;
      const event = read(shape, line);
      if (event === undefined) {
        if (shape.hits === 0 && ++shape.misses >= PROBATION) {
          shapes.splice(i--, 1);
          this.backOff();
        }
        continue;
      }
      if (shape.hits++ === 0) this.interval = 1;
      if (i > 0) {
        // To the front, the others keep their order: shapes not matched lately drift to the end.
        shapes.splice(i, 1);
        shapes.unshift(shape);
      }
      return event;
    }
    return undefined;
  }

  /**
   * Learns the shape of a line the full parse read as `record`, when the record is Vector's (a
   * string message and an ISO timestamp) and the back-off allows.
   */
  learn(line: string, record: unknown): void {
    if (++this.missesSinceLearn < this.interval) return;
    if (typeof record !== "object" || record === null || Array.isArray(record)) return;
    if (vectorTimeMs(record as Record<string, unknown>) === undefined) return;
    this.missesSinceLearn = 0;
    this.learnTries++;
    const shape = shapeOf(line);
    if (shape === undefined) {
      this.backOff();
      return;
    }
    // Last in the list: lines that other shapes read do not count against it on probation.
    if (this.shapes.length >= MAX_SHAPES) this.shapes.pop();
    this.shapes.push(shape);
  }

  private backOff(): void {
    this.interval = Math.min(this.interval * 2, MAX_INTERVAL);
  }
}
