import type { DeliveryEngine } from "../delivery/engine";
import { backoffDelay, type Deadline, sleep } from "../delivery/retry";
import { classify, describeError } from "../errors";
import type { QueueMessage, QueuePort, Telemetry } from "../ports";
import type { MessageResult } from "../reporting/outcome-report";
import { FairSlots, tenantShare } from "./fair-slots";
import { type QueuedMessage, readMessage } from "./notification";

/** Deliveries in flight per worker when not set: chosen by `npm run bench -- --e2e --sweep` (bench/RESULTS.md). */
export const DEFAULT_CONCURRENCY = 32;

export interface WorkerOptions {
  /** Messages per receive (1-10), never more than the free slots. @default 10 */
  readonly maxMessages?: number;
  /** Messages worked on at once; more are received as slots free up (no batch barrier). @default 32 */
  readonly concurrency?: number;
  /** Messages of one tenant worked on at once (fairness). @default a quarter of `concurrency`, at least 1 */
  readonly perTenantConcurrency?: number;
  /**
   * A message of a tenant that already has as many waiting as it may run is handed back to the
   * queue for this long instead of taking a slot others could use. @default 15
   */
  readonly deferSeconds?: number;
  /** Long-poll wait. @default 20 */
  readonly waitSeconds?: number;
  /** Visibility per message; extended every third of it while the message is worked on. @default 300 */
  readonly visibilitySeconds?: number;
  /** Return once a receive comes back empty (drain mode for jobs and tests). @default false */
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
  /** Handed back to the queue unopened: their tenant had its share in hand (not counted as received). */
  deferred: number;
  failedPermanent: number;
}

/**
 * Long-polling SQS worker over the same engine as the Lambda handler: a message is deleted when
 * it settles (delivered, skipped, parked or permanently failed, all recorded by the engine); a transient
 * failure is left for SQS to redeliver after its visibility timeout (then the DLQ). Up to
 * `concurrency` messages are worked on at once, at most `perTenantConcurrency` of one tenant, and
 * more are received as soon as slots free up, so one huge object stalls nothing else. Visibility
 * is extended from receipt while a message waits or is delivered. Aborting `signal` (SIGTERM)
 * stops receiving at once; messages not started are released at once, the ones in hand get
 * `shutdownGraceSeconds` to finish, else they checkpoint and are released.
 * A queue that cannot be used (missing, access denied) ends the run with QueueUnusableError.
 */
export class SqsWorker {
  constructor(
    private readonly engine: DeliveryEngine,
    private readonly queue: QueuePort,
    private readonly telemetry: Telemetry,
    private readonly options: WorkerOptions = {},
  ) {}

  async run(signal: AbortSignal): Promise<WorkerStats> {
    const stats: WorkerStats = {
      received: 0,
      acknowledged: 0,
      retried: 0,
      delivered: 0,
      parked: 0,
      failedPermanent: 0,
      deferred: 0,
    };
    const visibilitySeconds = this.options.visibilitySeconds ?? 300;
    const inFlight = new Set<Deadline>();
    const graceMs = (this.options.shutdownGraceSeconds ?? 20) * 1000;
    const onAbort = () => {
      const until = this.engine.newDeadline(graceMs).at;
      for (const deadline of inFlight) deadline.shortenTo(until);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const concurrency = this.options.concurrency ?? DEFAULT_CONCURRENCY;
    const perTenant = this.options.perTenantConcurrency ?? tenantShare(concurrency);
    const slots = new FairSlots(concurrency, perTenant);
    const releaseWaiting = () => slots.cancelWaiting();
    signal.addEventListener("abort", releaseWaiting, { once: true });
    let failedReceives = 0;
    const stopped = aborted(signal);
    try {
      while (!signal.aborted) {
        await Promise.race([slots.whenFree(), stopped]);
        if (signal.aborted) break;
        let messages: QueueMessage[];
        try {
          messages = await this.queue.receive({
            maxMessages: Math.min(this.options.maxMessages ?? 10, slots.free),
            waitSeconds: this.options.untilEmpty
              ? Math.min(this.options.waitSeconds ?? 1, 20)
              : (this.options.waitSeconds ?? 20),
            visibilitySeconds,
            signal,
          });
          failedReceives = 0;
        } catch (error) {
          if (signal.aborted) break;
          if (classify(error) === "permanent") {
            throw new QueueUnusableError(`the queue cannot be received from: ${describeError(error)}`);
          }
          failedReceives++;
          const delay =
            1000 + backoffDelay(failedReceives, { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 30_000 });
          this.telemetry.log("error", "receive failed; backing off", {
            error: describeError(error),
            delay_ms: delay,
          });
          await sleep(delay);
          continue;
        }
        this.options.onCycle?.();
        if (messages.length === 0 && this.options.untilEmpty) break;
        for (const m of messages) {
          const message = readMessage(m.body);
          const tenant = message.tenant;
          if (slots.waitingFor(tenant) >= perTenant) {
            await this.defer(m, stats);
            continue;
          }
          stats.received++;
          const heartbeat = this.keepVisible(m, visibilitySeconds);
          void slots
            .run(
              tenant,
              () => this.handle(m, message, stats, inFlight, signal),
              () => this.release(m, stats),
            )
            .finally(() => clearInterval(heartbeat));
        }
      }
      await slots.drained();
    } finally {
      signal.removeEventListener("abort", onAbort);
      signal.removeEventListener("abort", releaseWaiting);
    }
    this.telemetry.log("info", "worker stopped", { ...stats, aborted: signal.aborted });
    return stats;
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

  /** A tenant with its share in hand: its message goes back to the queue for a while, unopened. */
  private async defer(message: QueueMessage, stats: WorkerStats): Promise<void> {
    stats.deferred++;
    await this.queue
      .extendVisibility(message.receiptHandle, this.options.deferSeconds ?? 15)
      .catch(() => undefined);
  }

  /** A message never started (shutdown): back to the queue at once for another worker. */
  private async release(message: QueueMessage, stats: WorkerStats): Promise<void> {
    stats.retried++;
    await this.queue.extendVisibility(message.receiptHandle, 0).catch(() => undefined);
  }

  private async handle(
    message: QueueMessage,
    read: QueuedMessage,
    stats: WorkerStats,
    inFlight: Set<Deadline>,
    signal: AbortSignal,
  ): Promise<void> {
    const deadline = this.engine.newDeadline();
    inFlight.add(deadline);
    try {
      const result = await this.engine.processMessage(
        read,
        { message_id: message.messageId, receive_count: String(message.receiveCount) },
        deadline,
      );
      this.options.onResult?.(result, message);
      if (result.status === "failed_transient") {
        stats.retried++;
        // Shutting down: what was acknowledged is checkpointed; let another worker have it now.
        if (signal.aborted)
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
      inFlight.delete(deadline);
    }
  }
}

const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
