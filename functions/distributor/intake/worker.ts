import type { DeliveryEngine } from "../delivery/engine";
import { backoffDelay, type Deadline, sleep } from "../delivery/retry";
import { classify, describeError } from "../errors";
import type { QueueDepth, QueueMessage, QueuePort, Telemetry } from "../ports";
import type { MessageResult } from "../reporting/outcome-report";
import { DeferralPlanner } from "./deferral";
import { FairSlots } from "./fair-slots";
import { type QueuedMessage, readMessage } from "./notification";

/** Deliveries in flight per worker when not set: chosen by `npm run bench -- --e2e --sweep` (bench/RESULTS.md). */
export const DEFAULT_CONCURRENCY = 32;

export interface WorkerOptions {
  /** Messages per receive (1-10), never more than there is room for. @default 10 */
  readonly maxMessages?: number;
  /** Messages worked on at once; more are received as slots free up (no batch barrier). @default 32 */
  readonly concurrency?: number;
  /**
   * Noisy-neighbour isolation (docs/architecture.md, "Fairness"): a freed slot goes to the tenant
   * with the fewest running; the worker holds up to `lookahead` received messages and hands a
   * tenant's messages beyond about 2 s of its work back to the queue (deferral), to find others'
   * behind them. Off: one message per free slot, in queue order. @default true
   */
  readonly isolation?: boolean;
  /**
   * Received messages held waiting for a slot (with isolation); one tenant may hold up to half,
   * about 2 s of its deliveries. @default 16 x concurrency
   */
  readonly lookahead?: number;
  /** Receives under way at once, to scan past a flood quickly (with isolation). @default 8 */
  readonly receivers?: number;
  /** The queue's redrive maxReceiveCount: deferral never spends a message's last 3 receives. @default 5 */
  readonly maxReceiveCount?: number;
  /** Hard cap on one tenant's messages worked on at once. @default none (work-conserving) */
  readonly perTenantConcurrency?: number;
  /** Long-poll wait. @default 20 (1 with untilEmpty) */
  readonly waitSeconds?: number;
  /** Visibility per message; extended every third of it while the message is held or worked on. @default 300 */
  readonly visibilitySeconds?: number;
  /**
   * Drain mode (jobs, tests): return once the queue is empty: nothing visible, nothing deferred
   * on its way back, nothing in hand. When messages stay in flight elsewhere, say how many in
   * `WorkerStats.left`. @default false
   */
  readonly untilEmpty?: boolean;
  /** Called after every receive, messages or not (liveness heartbeats). */
  readonly onCycle?: () => void;
  /** Called with each message's result (reports, progress). */
  readonly onResult?: (result: MessageResult, message: QueueMessage) => void;
  /**
   * After abort (SIGTERM), messages in hand get this long to finish; then their destinations
   * checkpoint and stop, and the messages are released (visibility 0) for another worker. @default 20
   */
  readonly shutdownGraceSeconds?: number;
}

/** The queue cannot be used at all (it does not exist, or we may not read it): retrying cannot help. */
export class QueueUnusableError extends Error {
  override readonly name = "QueueUnusableError";
}

export interface WorkerStats {
  received: number;
  acknowledged: number;
  retried: number;
  delivered: number;
  /** Acknowledged with a destination parked (its customer's side refuses; delivered on recovery). */
  parked: number;
  /** Handed back to the queue unopened for a while: their tenant had its share waiting (not counted as received). */
  deferred: number;
  failedPermanent: number;
  /** untilEmpty: what the queue still held when the worker stopped, if anything. */
  left?: QueueDepth;
}

/** Receives under way at once with isolation: enough to scan past a flood of thousands in a second or two. */
export const DEFAULT_RECEIVERS = 8;

/** Times a drain sees "visible" counts with empty receives before trusting the receives (counts lag). */
const STALE_COUNT_ROUNDS = 3;

/** One run's shared state: its loops, slots and counters. */
interface Run {
  readonly signal: AbortSignal;
  readonly stopped: Promise<void>;
  readonly stats: WorkerStats;
  readonly slots: FairSlots;
  /** Absent without isolation: nothing is deferred. */
  readonly planner?: DeferralPlanner;
  readonly inFlight: Set<Deadline>;
  /** Deferrals being sent. */
  readonly deferring: Set<Promise<void>>;
  /** Receive loops. */
  readonly receivers: number;
  /** Messages asked for by receives under way. */
  asked: number;
  failedReceives: number;
  staleCounts: number;
  done: boolean;
  /** untilEmpty: loops whose last receive came back empty, waiting for the drain check. */
  idle: number;
  /** Wakes the idle loops after a drain check. */
  wake: Signal;
  /** Fires when a receive ends (its reserved room is free again). */
  received: Signal;
}

/**
 * Long-polling SQS worker over the same engine as the Lambda handler: a message is deleted when
 * it settles (delivered, skipped, parked or permanently failed, all recorded by the engine); a
 * transient failure is left for SQS to redeliver after its visibility timeout (then the DLQ). Up
 * to `concurrency` messages are worked on at once and more are received as soon as slots free
 * up, so one huge object stalls nothing else; with isolation a flood from one tenant neither
 * delays the others nor slows down when it is alone (see `isolation`). Visibility is extended
 * from receipt while a message waits or is delivered. Aborting `signal` (SIGTERM) stops receiving
 * at once; messages not started are released at once, the ones in hand get `shutdownGraceSeconds`
 * to finish, else they checkpoint and are released.
 * A queue that cannot be used (missing, access denied) ends the run with QueueUnusableError.
 */
export class SqsWorker {
  private readonly concurrency: number;
  private readonly isolation: boolean;
  private readonly lookahead: number;
  /** A tenant's messages waiting before deferral starts, whatever its pace. */
  private readonly minWaiting: number;

  constructor(
    private readonly engine: DeliveryEngine,
    private readonly queue: QueuePort,
    private readonly telemetry: Telemetry,
    private readonly options: WorkerOptions = {},
  ) {
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.isolation = options.isolation ?? true;
    this.lookahead = options.lookahead ?? 16 * this.concurrency;
    this.minWaiting = Math.ceil(this.concurrency / 2);
  }

  async run(signal: AbortSignal): Promise<WorkerStats> {
    const stop = new AbortController();
    const run = this.newRun(stop.signal);
    const onAbort = () => {
      if (stop.signal.aborted) return;
      const until = this.engine.newDeadline((this.options.shutdownGraceSeconds ?? 20) * 1000).at;
      for (const deadline of run.inFlight) deadline.shortenTo(until);
      run.slots.cancelWaiting();
      stop.abort();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    // A loop that fails (the queue is unusable) stops the others as a shutdown would.
    const loop = () =>
      this.receiveLoop(run).catch((error: unknown) => {
        onAbort();
        throw error;
      });
    try {
      const loops = await Promise.allSettled(Array.from({ length: run.receivers }, loop));
      await run.slots.drained();
      await Promise.all(run.deferring);
      const failed = loops.find((l) => l.status === "rejected");
      if (failed) throw failed.reason;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    this.telemetry.log("info", "worker stopped", { ...run.stats, aborted: signal.aborted });
    return run.stats;
  }

  private newRun(signal: AbortSignal): Run {
    const perKey = this.options.perTenantConcurrency;
    const slots = new FairSlots(this.concurrency, {
      order: this.isolation ? "fair" : "arrival",
      ...(perKey !== undefined && { perKey }),
    });
    const planner = this.isolation
      ? new DeferralPlanner({
          slots: this.concurrency,
          minWaiting: this.minWaiting,
          maxWaiting: Math.max(this.minWaiting, Math.floor(this.lookahead / 2)),
          maxReceiveCount: this.options.maxReceiveCount ?? 5,
        })
      : undefined;
    const stats = {
      received: 0,
      acknowledged: 0,
      retried: 0,
      delivered: 0,
      parked: 0,
      failedPermanent: 0,
      deferred: 0,
    };
    return {
      signal,
      receivers: this.isolation ? (this.options.receivers ?? DEFAULT_RECEIVERS) : 1,
      stopped: aborted(signal),
      stats,
      slots,
      ...(planner && { planner }),
      inFlight: new Set(),
      deferring: new Set(),
      asked: 0,
      failedReceives: 0,
      staleCounts: 0,
      done: false,
      idle: 0,
      wake: newSignal(),
      received: newSignal(),
    };
  }

  private async receiveLoop(run: Run): Promise<void> {
    while (!run.signal.aborted && !run.done) {
      const room = await this.room(run);
      if (room === 0) break;
      const messages = await this.receive(run, room);
      if (messages === undefined) continue;
      this.options.onCycle?.();
      if (messages.length > 0) {
        run.staleCounts = 0;
        this.take(run, messages);
      } else if (this.options.untilEmpty) await this.idle(run);
    }
  }

  /**
   * Waits until there is room for more messages (slots and lookahead), reserves it and returns how
   * many to ask for; 0 once stopped. Before any delivery has finished the worker cannot time a
   * deferral yet, so it does not scan past a tenant holding its share.
   */
  private async room(run: Run): Promise<number> {
    const limit = this.concurrency + (this.isolation ? this.lookahead : 0);
    while (!run.signal.aborted && !run.done) {
      const room = limit - run.slots.held - run.asked;
      if (room > 0) {
        const asked = Math.min(this.options.maxMessages ?? 10, room);
        run.asked += asked;
        return asked;
      }
      await Promise.race([run.slots.changed(), run.received.promise, run.stopped]);
    }
    return 0;
  }

  /** One receive of up to `asked`; undefined after a failure (backed off) or when stopped. */
  private async receive(run: Run, asked: number): Promise<QueueMessage[] | undefined> {
    try {
      const messages = await this.queue.receive({
        maxMessages: asked,
        waitSeconds: this.options.untilEmpty
          ? Math.min(this.options.waitSeconds ?? 1, 20)
          : (this.options.waitSeconds ?? 20),
        visibilitySeconds: this.options.visibilitySeconds ?? 300,
        signal: run.signal,
      });
      run.failedReceives = 0;
      return messages;
    } catch (error) {
      if (run.signal.aborted) return undefined;
      if (classify(error) === "permanent") {
        throw new QueueUnusableError(`the queue cannot be received from: ${describeError(error)}`);
      }
      run.failedReceives++;
      const delay =
        1000 + backoffDelay(run.failedReceives, { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 30_000 });
      this.telemetry.log("error", "receive failed; backing off", {
        error: describeError(error),
        delay_ms: delay,
      });
      await sleep(delay);
      return undefined;
    } finally {
      run.asked -= asked;
      run.received = fire(run.received);
    }
  }

  /** Starts (or queues for a slot) each message its tenant's share allows; defers the others. */
  private take(run: Run, messages: QueueMessage[]): void {
    const deferrals: { receiptHandle: string; seconds: number }[] = [];
    for (const m of messages) {
      const message = readMessage(m.body);
      const tenant = message.tenant;
      const seconds = run.planner?.deferral(tenant, m, run.slots.waitingFor(tenant));
      if (seconds === undefined) this.start(run, m, message);
      else deferrals.push({ receiptHandle: m.receiptHandle, seconds });
    }
    if (deferrals.length === 0) return;
    run.stats.deferred += deferrals.length;
    // A deferral that fails leaves the message invisible for the receive's visibility timeout: late, not lost.
    this.setVisibility(
      run,
      deferrals,
      "could not defer messages; they return after their visibility timeout",
    );
  }

  /** A tenant's line runs low while its deferred messages are not due yet: call them back now. */
  private refill(run: Run, tenant: string): void {
    const handles = run.planner?.recall(tenant, run.slots.waitingFor(tenant)) ?? [];
    if (handles.length === 0) return;
    const entries = handles.map((receiptHandle) => ({ receiptHandle, seconds: 0 }));
    this.setVisibility(run, entries, "could not recall deferred messages; they return when due");
  }

  /** Not awaited: the loops go on while it is sent (the run waits for it at the end). */
  private setVisibility(
    run: Run,
    entries: { receiptHandle: string; seconds: number }[],
    warning: string,
  ): void {
    const sent = this.queue
      .setVisibility(entries)
      .catch((error) => [`all ${entries.length}: ${describeError(error)}`])
      .then((failed) => {
        if (failed.length > 0) this.telemetry.log("warn", warning, { failed: failed.length });
      })
      .finally(() => run.deferring.delete(sent));
    run.deferring.add(sent);
  }

  private start(run: Run, m: QueueMessage, message: QueuedMessage): void {
    run.stats.received++;
    const heartbeat = this.keepVisible(m, this.options.visibilitySeconds ?? 300);
    void run.slots
      .run(
        message.tenant,
        () => this.handle(run, m, message),
        () => this.release(m, run.stats),
      )
      .finally(() => clearInterval(heartbeat));
  }

  /**
   * untilEmpty, after an empty receive: the loop waits until every loop has come back empty;
   * the last one checks whether the queue is drained, then wakes the others (to stop or receive on).
   */
  private async idle(run: Run): Promise<void> {
    run.idle++;
    if (run.idle < run.receivers) {
      await Promise.race([run.wake.promise, run.stopped]);
      run.idle--;
      return;
    }
    try {
      if (await this.checkEmpty(run)) run.done = true;
    } finally {
      run.idle--;
      run.wake = fire(run.wake);
    }
  }

  private async checkEmpty(run: Run): Promise<boolean> {
    const deferred = run.planner?.outstanding();
    if (deferred && deferred.count > 0) {
      // The messages it deferred come back (or are recalled sooner): receive again in a while.
      await Promise.race([sleep(Math.min(1000, Math.max(0, deferred.nextDue - Date.now()))), run.stopped]);
      return false;
    }
    await Promise.race([run.slots.drained(), run.stopped]);
    if (run.signal.aborted || run.slots.held > 0) return false;
    const depth = await this.queue.depth();
    if (depth.visible + depth.delayed > 0 && ++run.staleCounts < STALE_COUNT_ROUNDS) return false;
    if (depth.visible + depth.delayed + depth.inFlight > 0) run.stats.left = depth;
    return true;
  }

  /** Extends the message's visibility every third of it, from receipt until it is settled. */
  private keepVisible(message: QueueMessage, visibilitySeconds: number): NodeJS.Timeout {
    return setInterval(
      () => {
        this.queue.extendVisibility(message.receiptHandle, visibilitySeconds).catch((error) =>
          this.telemetry.log("warn", "could not extend visibility", {
            message_id: message.messageId,
            error: describeError(error),
          }),
        );
      },
      Math.max(1, Math.floor(visibilitySeconds / 3)) * 1000,
    );
  }

  /** A message never started (shutdown): back to the queue at once for another worker. */
  private async release(message: QueueMessage, stats: WorkerStats): Promise<void> {
    stats.retried++;
    await this.queue.extendVisibility(message.receiptHandle, 0).catch(() => undefined);
  }

  private async handle(run: Run, message: QueueMessage, read: QueuedMessage): Promise<void> {
    const { stats } = run;
    const deadline = this.engine.newDeadline();
    const started = Date.now();
    run.inFlight.add(deadline);
    try {
      const result = await this.engine.processMessage(
        read,
        { message_id: message.messageId, receive_count: String(message.receiveCount) },
        deadline,
      );
      run.planner?.finished(read.tenant, Date.now() - started);
      this.options.onResult?.(result, message);
      if (result.status === "failed_transient") {
        stats.retried++;
        // Shutting down: what was acknowledged is checkpointed; let another worker have it now.
        if (run.signal.aborted)
          await this.queue.extendVisibility(message.receiptHandle, 0).catch(() => undefined);
        return;
      }
      if (result.status === "delivered") stats.delivered++;
      if (result.status === "parked") stats.parked++;
      if (result.status === "failed_permanent") stats.failedPermanent++;
      await this.queue.delete(message.receiptHandle);
      stats.acknowledged++;
    } catch (error) {
      // The engine reports outcomes instead of throwing; anything here is a bug or an outage.
      stats.retried++;
      this.telemetry.log("error", "message left for redelivery", {
        message_id: message.messageId,
        error: describeError(error),
      });
    } finally {
      run.inFlight.delete(deadline);
      this.refill(run, read.tenant);
    }
  }
}

/** A one-shot event: `fire` resolves it and returns the next one. */
interface Signal {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function newSignal(): Signal {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function fire(event: Signal): Signal {
  event.resolve();
  return newSignal();
}

const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
