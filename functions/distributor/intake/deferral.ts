/**
 * Receive counts every message keeps for real attempts: a message is deferred only while
 * `receiveCount + RESERVED_ATTEMPTS <= maxReceiveCount`, so deferral never sends it to the DLQ
 * and never takes away its last retries.
 */
export const RESERVED_ATTEMPTS = 3;
/**
 * Deferrals aim this much later than estimated: a message back too early is received and deferred
 * again (a receive count spent), one too late is recalled when its tenant's line runs low.
 */
const LATE = 1.5;
/** A delivery's duration assumed before any is measured (deliberately long: late is recalled). */
const COLD_AVERAGE_MS = 1000;
/** Weight of the newest duration in a tenant's running average. */
const SMOOTHING = 0.2;

export interface DeferralOptions {
  /** Slots of the worker: a tenant alone may use all of them. */
  readonly slots: number;
  /**
   * Messages of one tenant held waiting (received, not started) before more are deferred: enough
   * for `bufferSeconds` of its deliveries on every slot, at least `minWaiting`, at most `maxWaiting`.
   */
  readonly minWaiting: number;
  readonly maxWaiting: number;
  /** Covers SQS's one-second visibility steps and the jitter of returns. @default 2 */
  readonly bufferSeconds?: number;
  /** The queue's redrive maxReceiveCount. */
  readonly maxReceiveCount: number;
  /** Bounds of a deferral's visibility timeout, seconds. @default 1 and 900 */
  readonly minSeconds?: number;
  readonly maxSeconds?: number;
}

/** A deferral this close to its end is left alone: the message is about to come back anyway. */
const RECALL_MARGIN_MS = 1500;
/** A recalled message not received within this long is taken by another consumer. */
const RECALL_TRAVEL_MS = 5000;
/** Receipt handles kept for recall, all tenants together (about 0.5 KB each); later deferrals only come back on time. */
const MAX_RECALLABLE = 10_000;

interface Deferred {
  readonly messageId: string;
  /** When it is due back (ms since epoch). */
  readonly due: number;
  /** Its receipt handle while it may be recalled. */
  readonly handle?: string;
}

/**
 * Decides which received messages a worker keeps and which it hands back to the queue, and for
 * how long. A tenant with its `waitingCap` of messages already waiting has its further messages
 * deferred: each goes back with a visibility timeout of about when the worker will have room for
 * it (its place in that tenant's line times the tenant's average delivery time, spread over the
 * slots), so a flood waits in the queue rather than in memory, comes back at the pace it is
 * delivered, and the worker keeps receiving past it to find quiet tenants' messages. When the
 * tenant's line runs low before they are due (the estimate was long), the worker recalls the
 * earliest ones (visibility 0): a flood alone never waits on its own deferrals.
 */
export class DeferralPlanner {
  private readonly averageMs = new Map<string, number>();
  private overallMs: number | undefined;
  /** Per tenant, in nearly rising order of due time. */
  private readonly deferred = new Map<string, Deferred[]>();
  /** Deferred by this worker and not due yet: message id -> its tenant and entry. */
  private readonly byId = new Map<string, { tenant: string; entry: Deferred }>();
  /** Recalled and not received yet: message id -> tenant and when. */
  private readonly recalled = new Map<string, { tenant: string; at: number }>();
  private recallable = 0;

  constructor(
    private readonly options: DeferralOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many of `tenant`'s messages may wait in the worker before the next is deferred. */
  waitingCap(tenant: string): number {
    const { minWaiting, maxWaiting, slots } = this.options;
    const averageMs = this.averageMs.get(tenant) ?? this.overallMs;
    if (averageMs === undefined) return minWaiting;
    const covering = Math.ceil(((this.options.bufferSeconds ?? 2) * 1000 * slots) / Math.max(1, averageMs));
    return Math.min(maxWaiting, Math.max(minWaiting, covering));
  }

  /** A message of `tenant` took `ms` from start to settled. */
  finished(tenant: string, ms: number): void {
    const mean = (old: number | undefined) => (old === undefined ? ms : old + SMOOTHING * (ms - old));
    this.averageMs.set(tenant, mean(this.averageMs.get(tenant)));
    this.overallMs = mean(this.overallMs);
  }

  /**
   * Seconds to defer a received message of `tenant` (which has `waiting` messages held), or
   * undefined to keep it: the tenant is under its share, or the message has used its deferrals.
   */
  deferral(
    tenant: string,
    message: { readonly messageId: string; readonly receiptHandle: string; readonly receiveCount: number },
    waiting: number,
  ): number | undefined {
    this.arrived(message.messageId);
    // A message called back is kept: it was recalled because the tenant's line ran low.
    if (this.recalled.delete(message.messageId)) return undefined;
    const cap = this.waitingCap(tenant);
    if (waiting < cap) return undefined;
    if (message.receiveCount + RESERVED_ATTEMPTS > this.options.maxReceiveCount) return undefined;
    const now = this.now();
    const line = this.pending(tenant, now);
    // It may wait here once `ahead - cap` of the tenant's messages have started: aim at the middle
    // of the window in which the line has room for it.
    const ahead = waiting + line.length + 1;
    const perMessageMs =
      (this.averageMs.get(tenant) ?? this.overallMs ?? COLD_AVERAGE_MS) / this.options.slots;
    const seconds = Math.min(
      this.options.maxSeconds ?? 900,
      Math.max(this.options.minSeconds ?? 1, Math.ceil(((ahead - cap / 2) * perMessageMs * LATE) / 1000)),
    );
    const keep = this.recallable < MAX_RECALLABLE;
    if (keep) this.recallable++;
    const entry = {
      messageId: message.messageId,
      due: now + seconds * 1000,
      ...(keep && { handle: message.receiptHandle }),
    };
    line.push(entry);
    this.deferred.set(tenant, line);
    this.byId.set(message.messageId, { tenant, entry });
    return seconds;
  }

  /** A message this worker deferred is back in its hands before it was due: it is no longer out there. */
  private arrived(messageId: string): void {
    const back = this.byId.get(messageId);
    if (!back) return;
    this.forget(back.entry);
    const line = this.deferred.get(back.tenant) ?? [];
    const at = line.indexOf(back.entry);
    if (at >= 0) line.splice(at, 1);
    if (line.length === 0) this.deferred.delete(back.tenant);
  }

  private forget(entry: Deferred): void {
    this.byId.delete(entry.messageId);
    if (entry.handle) this.recallable--;
  }

  /**
   * Receipt handles to make visible now: the tenant has fewer than half its cap waiting or on
   * the way back, and deferred messages not due for a while. Only messages still invisible
   * under this worker's deferral are recalled, so no other consumer holds them.
   */
  recall(tenant: string, waiting: number): string[] {
    const now = this.now();
    const line = this.pending(tenant, now);
    if (line.length === 0) return [];
    let travelling = 0;
    for (const [id, r] of this.recalled) {
      if (now - r.at > RECALL_TRAVEL_MS) this.recalled.delete(id);
      else if (r.tenant === tenant) travelling++;
    }
    const dueSoon = line.filter((d) => d.due <= now + RECALL_MARGIN_MS).length;
    const cap = this.waitingCap(tenant);
    const coming = waiting + travelling + dueSoon;
    if (coming >= cap / 2) return [];
    const handles: string[] = [];
    const left: Deferred[] = [];
    for (const d of line) {
      if (handles.length < cap - coming && d.handle && d.due > now + RECALL_MARGIN_MS) {
        handles.push(d.handle);
        this.forget(d);
        this.recalled.set(d.messageId, { tenant, at: now });
      } else left.push(d);
    }
    this.deferred.set(tenant, left);
    return handles;
  }

  /** Deferred messages not yet due back, and when the first of them is (ms since epoch). */
  outstanding(): { count: number; nextDue: number } {
    const now = this.now();
    let count = 0;
    let nextDue = Number.POSITIVE_INFINITY;
    for (const tenant of [...this.deferred.keys()]) {
      const line = this.pending(tenant, now);
      count += line.length;
      for (const d of line) nextDue = Math.min(nextDue, d.due);
    }
    return { count, nextDue };
  }

  /** The tenant's deferrals still due back; those due are forgotten (the message is visible again). */
  private pending(tenant: string, now: number): Deferred[] {
    const line = this.deferred.get(tenant) ?? [];
    if (line.length === 0 || line[0]!.due > now) return line;
    const left: Deferred[] = [];
    for (const d of line) {
      if (d.due > now) left.push(d);
      else this.forget(d);
    }
    if (left.length === 0) this.deferred.delete(tenant);
    else this.deferred.set(tenant, left);
    return left;
  }
}
