import type { LogEvent } from "../../../reading/log-records";

/**
 * PutLogEvents rules (CloudWatch Logs API reference, PutLogEvents):
 * at most 10,000 events and 1,048,576 bytes per call, counting each message's UTF-8 bytes plus 26;
 * events in chronological order; a batch may not span more than 24 hours; one event at most
 * 262,144 bytes including the 26 (logrelay keeps this long-standing limit; it is a knob).
 */
export interface PutLogEventsLimits {
  readonly maxEvents: number;
  readonly maxBatchBytes: number;
  readonly perEventOverheadBytes: number;
  readonly maxSpanMs: number;
  readonly maxEventBytes: number;
}

export const PUT_LOG_EVENTS_LIMITS: PutLogEventsLimits = {
  maxEvents: 10_000,
  maxBatchBytes: 1_048_576,
  perEventOverheadBytes: 26,
  maxSpanMs: 24 * 60 * 60 * 1000,
  maxEventBytes: 262_144,
};

export interface LogBatch {
  /** Sorted by timestamp, ascending. */
  readonly events: LogEvent[];
  /** Bytes as CloudWatch counts them (message bytes + 26 per event). */
  readonly bytes: number;
  /** Its events' count: the units the checkpoint moves past. */
  readonly units: number;
}

/**
 * Splits a message whose UTF-8 size is over `maxMessageBytes` into pieces that are not, cutting
 * only at character boundaries. Oversize events are split, not truncated: no text is lost, and
 * every piece keeps the event's timestamp (CloudWatch shows them in order).
 */
export function splitOversizeMessage(message: string, maxMessageBytes: number): string[] {
  if (message.length * 3 <= maxMessageBytes || Buffer.byteLength(message, "utf8") <= maxMessageBytes) {
    return [message];
  }
  const bytes = Buffer.from(message, "utf8");
  const pieces: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + maxMessageBytes, bytes.length);
    // Step back over UTF-8 continuation bytes (10xxxxxx) so a character is never cut in two.
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
    pieces.push(bytes.toString("utf8", start, end));
    start = end;
  }
  return pieces;
}

/**
 * Packs events into the fewest PutLogEvents batches that keep every rule, greedily in arrival
 * order: a batch is closed when the next event would break the count, byte or 24-hour-span limit.
 * Events are sorted inside each batch before it is handed out. Messages must already be split
 * to `maxEventBytes` (see splitOversizeMessage).
 */
export class PutLogEventsBatcher {
  private events: LogEvent[] = [];
  private bytes = 0;
  private minTs = Number.POSITIVE_INFINITY;
  private maxTs = Number.NEGATIVE_INFINITY;

  constructor(private readonly limits: PutLogEventsLimits = PUT_LOG_EVENTS_LIMITS) {}

  /**
   * Adds an event; returns the batch it closed, if adding it closed one. `size` is the event's
   * counted bytes when the caller already knows them (the hot path measures each message once).
   */
  add(event: LogEvent, size: number = eventBytes(event.message, this.limits)): LogBatch | undefined {
    if (size > this.limits.maxEventBytes) {
      throw new RangeError(`event of ${size} bytes is over ${this.limits.maxEventBytes}: split it first`);
    }
    let closed: LogBatch | undefined;
    const min = Math.min(this.minTs, event.timestamp);
    const max = Math.max(this.maxTs, event.timestamp);
    if (
      this.events.length > 0 &&
      (this.events.length + 1 > this.limits.maxEvents ||
        this.bytes + size > this.limits.maxBatchBytes ||
        max - min > this.limits.maxSpanMs)
    ) {
      closed = this.flush();
    }
    this.events.push(event);
    this.bytes += size;
    this.minTs = Math.min(this.minTs, event.timestamp);
    this.maxTs = Math.max(this.maxTs, event.timestamp);
    return closed;
  }

  /** Hands out what is pending, if anything. */
  flush(): LogBatch | undefined {
    if (this.events.length === 0) return undefined;
    const events = this.events;
    // Stable sort; skip it when the batch is already in order (the common case for one pod's file).
    let sorted = true;
    for (let i = 1; i < events.length; i++) {
      if (events[i]!.timestamp < events[i - 1]!.timestamp) {
        sorted = false;
        break;
      }
    }
    if (!sorted) events.sort((a, b) => a.timestamp - b.timestamp);
    const batch = { events, bytes: this.bytes, units: events.length };
    this.events = [];
    this.bytes = 0;
    this.minTs = Number.POSITIVE_INFINITY;
    this.maxTs = Number.NEGATIVE_INFINITY;
    return batch;
  }
}

export function eventBytes(message: string, limits: PutLogEventsLimits = PUT_LOG_EVENTS_LIMITS): number {
  return Buffer.byteLength(message, "utf8") + limits.perEventOverheadBytes;
}

/** The fewest batches any packing could use for these totals (count and byte bounds). */
export function minimumBatches(
  events: number,
  bytes: number,
  limits: PutLogEventsLimits = PUT_LOG_EVENTS_LIMITS,
): number {
  if (events === 0) return 0;
  return Math.max(Math.ceil(events / limits.maxEvents), Math.ceil(bytes / limits.maxBatchBytes));
}

/**
 * CloudWatch refuses events older than 14 days or more than 2 hours in the future. Events outside
 * the window (with a 5-minute safety margin for time in flight) are not sent and count as rejected.
 */
export const ACCEPT_WINDOW = {
  maxAgeMs: 14 * 24 * 3600_000 - 5 * 60_000,
  maxFutureMs: 2 * 3600_000 - 5 * 60_000,
};

export function isInAcceptWindow(timestampMs: number, nowMs: number): boolean {
  return timestampMs >= nowMs - ACCEPT_WINDOW.maxAgeMs && timestampMs <= nowMs + ACCEPT_WINDOW.maxFutureMs;
}
