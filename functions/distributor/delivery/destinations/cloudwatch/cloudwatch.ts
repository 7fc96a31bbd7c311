import { LOG_GROUP_TAGS, LOG_GROUP_WRITER_ACTIONS } from "../../../../shared/contract";
import type { CloudWatchConfig } from "../../../../shared/delivery-config";
import { accountOfRoleArn } from "../../../../shared/patterns";
import type { LogObjectKey } from "../../../admission/object-key";
import {
  CorruptObjectError,
  classify,
  DeadlineReachedError,
  describeError,
  InterruptedReadError,
} from "../../../errors";
import type { Checkpoint } from "../../../model/ledger";
import type { LogGroupSettings, PutLogEventsResult, SessionRequest } from "../../../ports";
import { type EventChunk, type LogEvent, newReadStats } from "../../../reading/log-records";
import { backoffDelay } from "../../retry";
import {
  countsOf,
  type DeliveryRun,
  type Destination,
  type DestinationDeps,
  sessionRequestFor,
  targetOf,
} from "../destination";
import {
  isInAcceptWindow,
  type LogBatch,
  PutLogEventsBatcher,
  type PutLogEventsLimits,
  splitOversizeMessage,
} from "./batching";

/**
 * Version of the rules that cut an object into batches (reading, accept window, splitting,
 * batching). A checkpoint written under another version cannot be trusted to point at the same
 * event: the destination then starts again from the first event (duplicates are possible, loss
 * is not), logging `checkpoint_version_mismatch`. Bump it with any change to those rules.
 */
export const BATCHING_VERSION = "cw-1";

/** CloudWatch Logs stream `{cluster_id}/{application}/{pod_name}/{YYYY-MM-DD}` (UTC date of the object). */
export function logStreamName(key: LogObjectKey, objectTime: Date): string {
  return `${key.clusterId}/${key.application}/${key.podName}/${objectTime.toISOString().slice(0, 10)}`;
}

/** Session policy of the customer-role hop: this one log group and its streams. */
export function cloudWatchSessionPolicy(region: string, accountId: string, logGroupName: string): string {
  const group = `arn:aws:logs:${region}:${accountId}:log-group:${logGroupName}`;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [...LOG_GROUP_WRITER_ACTIONS],
        Resource: [group, `${group}:*`],
      },
    ],
  });
}

/** Events CloudWatch refused in a batch: [0..tooOld/expired end] and [tooNew start..]. */
export function rejectedCount(result: PutLogEventsResult, batchSize: number): number {
  const oldEnd = Math.max(result.tooOldEndIndex ?? -1, result.expiredEndIndex ?? -1);
  const newStart = result.tooNewStartIndex ?? batchSize;
  const front = Math.min(oldEnd + 1, batchSize);
  const back = Math.max(0, batchSize - Math.max(newStart, front));
  return front + back;
}

/**
 * Delivers an object's events into the tenant's log group, in batches that keep every
 * PutLogEvents rule. After each accepted batch the progress is checkpointed under the claim; a
 * later attempt re-reads and re-batches the same way and sends nothing up to the checkpoint. A
 * read that breaks off is reopened (same version) and resumed from the last acknowledged batch
 * while the deadline allows.
 */
export class CloudWatchDestination implements Destination {
  readonly type = "cloudwatch" as const;
  readonly target: string;
  readonly sessionRequest: SessionRequest;
  private readonly group: string;
  private readonly groupSettings: LogGroupSettings;

  constructor(
    config: CloudWatchConfig,
    private readonly key: LogObjectKey,
    region: string,
    private readonly limits: PutLogEventsLimits,
    private readonly deps: DestinationDeps,
  ) {
    const accountId = accountOfRoleArn(config.log_distribution_role_arn);
    this.group = config.log_group_name;
    this.groupSettings = {
      retentionDays: config.retention_days ?? deps.logGroupRetentionDays,
      ...(config.kms_key_arn && { kmsKeyArn: config.kms_key_arn }),
      tags: { [LOG_GROUP_TAGS.managedBy]: "logrelay", [LOG_GROUP_TAGS.tenant]: key.tenantId },
    };
    this.target = targetOf(config, region);
    this.sessionRequest = sessionRequestFor(
      config,
      key,
      region,
      cloudWatchSessionPolicy(region, accountId, this.group),
    );
  }

  async deliver(run: DeliveryRun): Promise<void> {
    let acked = this.startingPoint(run);
    Object.assign(run.progress, countsOf(acked));
    for (let reopen = 1; ; reopen++) {
      try {
        await this.pass(run, acked, (checkpoint) => {
          acked = checkpoint;
        });
        return;
      } catch (error) {
        if (!(error instanceof InterruptedReadError)) throw error;
        const delay = backoffDelay(reopen, { maxAttempts: 1, baseDelayMs: 200, maxDelayMs: 5_000 });
        if (run.deadline.remainingMs() - delay < this.deps.reserveMs) throw error;
        this.deps.telemetry.log("warn", "read interrupted; reopening the object and resuming", {
          tenant_id: this.key.tenantId,
          key: run.ref.key,
          target: this.target,
          resume_after_batch: acked.batches,
          error: error.message,
        });
        await this.deps.sleep(delay);
        Object.assign(run.progress, countsOf(acked));
      }
    }
  }

  private startingPoint(run: DeliveryRun): Checkpoint {
    const saved = run.claim.checkpoint;
    const fresh: Checkpoint = {
      ...countsOf(),
      position: 0,
      windowNowMs: this.deps.now(),
      batching: BATCHING_VERSION,
    };
    if (!saved) return fresh;
    if (saved.batching !== BATCHING_VERSION) {
      this.deps.telemetry.log("warn", "checkpoint_version_mismatch: delivering from the first event again", {
        tenant_id: this.key.tenantId,
        key: run.ref.key,
        target: this.target,
        checkpoint_batching: saved.batching,
        batching: BATCHING_VERSION,
      });
      return fresh;
    }
    this.deps.telemetry.log("info", "resuming from checkpoint", {
      tenant_id: this.key.tenantId,
      key: run.ref.key,
      target: this.target,
      after_batch: saved.batches,
      position: saved.position,
    });
    return saved;
  }

  /** One read of the object from its first byte; sends what comes after `from`. */
  private async pass(run: DeliveryRun, from: Checkpoint, onAck: (c: Checkpoint) => void): Promise<void> {
    const { progress, deadline } = run;
    const logs = this.deps.cloudWatchLogs(run.session);
    const stream = logStreamName(this.key, run.ref.eventTime);
    const maxMessageBytes = this.limits.maxEventBytes - this.limits.perEventOverheadBytes;
    const batcher = new PutLogEventsBatcher(this.limits);
    const stats = newReadStats();
    let seen = 0;
    let position = from.position;
    // Counting before the first unit past the checkpoint was already counted into it.
    const counting = () => seen > from.position || from.position === 0;
    // What the reader counted (it runs a batch ahead of the acknowledged one), and what CloudWatch refused.
    const read = { rejected: 0, split: 0 };
    let refused = 0;
    /** The reader's counts when a batch was cut: a checkpoint holds what comes before its position only. */
    const cut = () => ({ ...read, badLines: stats.badLines });

    /**
     * Sends one batch and checkpoints it. `last`: the object's final batch, whose checkpoint is the
     * completion the engine writes next.
     */
    const send = async (batch: LogBatch, counts: ReturnType<typeof cut>, last = false) => {
      await run.claim.ensureHeld();
      if (deadline.remainingMs() < this.deps.reserveMs) {
        throw new DeadlineReachedError(
          `time budget reached after ${progress.batches} batches (${progress.eventsDelivered} events); the next attempt resumes there`,
        );
      }
      const result = await this.deps.call(
        () => logs.putLogEvents(this.group, stream, batch.events, this.groupSettings),
        deadline,
      );
      const rejected = rejectedCount(result, batch.events.length);
      refused += rejected;
      progress.batches++;
      progress.eventsRejected += rejected;
      progress.eventsDelivered += batch.events.length - rejected;
      progress.bytes += batch.bytes;
      progress.badLines = stats.badLines;
      position += batch.events.length;
      const checkpoint = {
        ...countsOf(progress),
        eventsRejected: from.eventsRejected + counts.rejected + refused,
        eventsSplit: from.eventsSplit + counts.split,
        badLines: counts.badLines,
        position,
        windowNowMs: from.windowNowMs,
        batching: BATCHING_VERSION,
      };
      if (!last) await run.claim.save(checkpoint);
      onAck(checkpoint);
    };
    // Pipelined: while a batch is in flight the reader reads, parses and batches the next one. One
    // PutLogEvents in flight per stream keeps the events in order; memory holds the batch in
    // flight, the next one when it is complete, and the one being filled.
    let inFlight: Promise<void> | undefined;
    const settle = async () => {
      const sending = inFlight;
      inFlight = undefined;
      await sending;
    };
    const dispatch = async (full: LogBatch, counts: ReturnType<typeof cut>) => {
      await settle();
      inFlight = send(full, counts);
      // Its failure is thrown by the next settle(); until then it is not unhandled.
      inFlight.catch(() => {});
    };
    /** Adds an event; a promise only when it completed a batch (most events cost no await). */
    const add = (event: LogEvent, size?: number): Promise<void> | undefined => {
      seen++;
      if (seen <= from.position) return undefined;
      const full = batcher.add(event, size);
      // Adding counts nothing: these are the reader's counts up to the event that starts the next batch.
      return full ? dispatch(full, cut()) : undefined;
    };

    const events = (await run.events(stats))[Symbol.asyncIterator]();
    let readError: unknown;
    for (;;) {
      let next: IteratorResult<EventChunk>;
      try {
        next = await events.next();
      } catch (error) {
        readError = error;
        break;
      }
      if (next.done) break;
      const ascii = next.value.ascii === true;
      for (const event of next.value) {
        if (!isInAcceptWindow(event.timestamp, from.windowNowMs)) {
          if (counting()) {
            progress.eventsRejected++;
            read.rejected++;
          }
          continue;
        }
        const bytes = ascii ? event.message.length : Buffer.byteLength(event.message, "utf8");
        if (bytes <= maxMessageBytes) {
          const dispatched = add(event, bytes + this.limits.perEventOverheadBytes);
          if (dispatched) await dispatched;
          continue;
        }
        const pieces = splitOversizeMessage(event.message, maxMessageBytes);
        if (counting()) {
          progress.eventsSplit++;
          read.split++;
        }
        for (const message of pieces) await add({ timestamp: event.timestamp, message });
      }
    }
    // What is in flight is acknowledged (and checkpointed) before anything else is decided.
    await settle();
    if (readError !== undefined && !(readError instanceof CorruptObjectError)) {
      if (readError instanceof InterruptedReadError || classify(readError) === "permanent") throw readError;
      throw new InterruptedReadError(`reading the object failed: ${describeError(readError)}`, {
        cause: readError,
      });
    }
    // A corrupt object: what was decoded before the damage is delivered, then the failure is reported.
    const final = batcher.flush();
    if (final) await send(final, cut(), readError === undefined);
    progress.badLines = stats.badLines;
    this.reportBadLines(run, stats);
    if (readError instanceof CorruptObjectError) {
      throw new CorruptObjectError(
        `${readError.message}; the ${progress.eventsDelivered} events before it were delivered`,
      );
    }
  }

  private reportBadLines(run: DeliveryRun, stats: ReturnType<typeof newReadStats>): void {
    if (stats.badLines === 0) return;
    this.deps.telemetry.log("warn", "bad lines skipped", {
      tenant_id: this.key.tenantId,
      key: run.ref.key,
      bad_lines: stats.badLines,
      samples: stats.badSamples,
    });
  }
}
