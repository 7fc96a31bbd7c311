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
  ObjectCapError,
} from "../../../errors";
import { countsOf } from "../../../model/counts";
import type { Checkpoint } from "../../../model/ledger";
import type { LogGroupSettings, PutLogEventsResult, SessionRequest } from "../../../ports";
import {
  type EventChunk,
  type LogEvent,
  messageBytes,
  newReadStats,
  type ReadStats,
} from "../../../reading/log-records";
import { backoffDelay } from "../../retry";
import {
  type Attempt,
  type DeliveryRun,
  type Destination,
  type DestinationDeps,
  sessionRequestFor,
  targetOf,
} from "../destination";
import { OrderedSender } from "../ordered-sender";
import {
  eventBytes,
  isInAcceptWindow,
  type LogBatch,
  PutLogEventsBatcher,
  type PutLogEventsLimits,
  splitOversizeMessage,
} from "./batching";
import { CheckpointTally, type ReaderCounts } from "./checkpoint-tally";

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

/** One read of the object: what it ended with, and the last checkpoint it reached. */
interface Pass {
  readonly attempt: Attempt;
  readonly acked: Checkpoint;
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
  private readonly maxMessageBytes: number;

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
    this.maxMessageBytes = limits.maxEventBytes - limits.perEventOverheadBytes;
  }

  async deliver(run: DeliveryRun): Promise<Attempt> {
    let from = this.startingPoint(run);
    for (let reopen = 1; ; reopen++) {
      const { attempt, acked } = await this.pass(run, from);
      if (!(attempt.error instanceof InterruptedReadError)) return attempt;
      const delay = backoffDelay(reopen, { maxAttempts: 1, baseDelayMs: 200, maxDelayMs: 5_000 });
      if (run.deadline.remainingMs() - delay < this.deps.reserveMs) return attempt;
      this.deps.telemetry.log("warn", "read interrupted; reopening the object and resuming", {
        tenant_id: this.key.tenantId,
        key: run.ref.key,
        target: this.target,
        resume_after_batch: acked.batches,
        error: attempt.error.message,
      });
      await this.deps.sleep(delay);
      from = acked;
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
  private async pass(run: DeliveryRun, from: Checkpoint): Promise<Pass> {
    const stats = newReadStats();
    const tally = new CheckpointTally(from, stats);
    const sender = new OrderedSender();
    const batcher = new PutLogEventsBatcher(this.limits);
    const stream = logStreamName(this.key, run.ref.eventTime);
    const send = (batch: LogBatch, cut: ReaderCounts, last = false) =>
      this.send(run, stream, batch, cut, tally, last);
    /** Adds a unit; a promise only when it completed a batch (most units cost no await). */
    const add = (event: LogEvent, size: number): Promise<void> | undefined => {
      if (tally.skipUnit()) return undefined;
      const full = batcher.add(event, size);
      // The reader's counts up to the unit that starts the next batch.
      return full ? sender.send(() => send(full, tally.cut())) : undefined;
    };
    const end = (error?: unknown): Pass => ({
      attempt: { counts: tally.counts(), ...(error !== undefined && { error }) },
      acked: tally.acked,
    });
    let readError: unknown;
    try {
      readError = await this.readInto(run, stats, from.windowNowMs, tally, add);
      // What is in flight is acknowledged (and checkpointed) before anything else is decided.
      await sender.settle();
      if (readError !== undefined && !(readError instanceof CorruptObjectError))
        return end(asReadFailure(readError));
      // A corrupt object: what was decoded before the damage is delivered, then the failure is reported.
      const final = batcher.flush();
      if (final) await send(final, tally.cut(), readError === undefined);
    } catch (error) {
      await sender.settle().catch(() => undefined);
      return end(error);
    }
    this.reportBadLines(run, stats);
    if (readError instanceof CorruptObjectError) {
      const reason = `${readError.message}; the ${tally.acked.eventsDelivered} events before it were delivered`;
      return end(
        readError instanceof ObjectCapError ? new ObjectCapError(reason) : new CorruptObjectError(reason),
      );
    }
    return end();
  }

  /**
   * Reads the object's events into `add`: the accept window and the size limit applied, oversize
   * messages split. Returns the read's failure, if it broke off; a send's failure is thrown.
   */
  private async readInto(
    run: DeliveryRun,
    stats: ReadStats,
    windowNowMs: number,
    tally: CheckpointTally,
    add: (event: LogEvent, size: number) => Promise<void> | undefined,
  ): Promise<unknown> {
    const overhead = this.limits.perEventOverheadBytes;
    const events = (await run.events(stats))[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<EventChunk>;
      try {
        next = await events.next();
      } catch (error) {
        return error;
      }
      if (next.done) return undefined;
      const chunk = next.value;
      for (let i = 0; i < chunk.length; i++) {
        const event = chunk[i]!;
        if (!isInAcceptWindow(event.timestamp, windowNowMs)) {
          tally.rejectedByWindow();
          continue;
        }
        const bytes = messageBytes(chunk, i);
        if (bytes <= this.maxMessageBytes) {
          const completed = add(event, bytes + overhead);
          if (completed) await completed;
          continue;
        }
        tally.split();
        for (const message of splitOversizeMessage(event.message, this.maxMessageBytes)) {
          const piece = { timestamp: event.timestamp, message };
          const completed = add(piece, eventBytes(message, this.limits));
          if (completed) await completed;
        }
      }
    }
  }

  /**
   * Sends one batch and checkpoints it. `last`: the object's final batch, whose checkpoint is the
   * completion the engine writes next.
   */
  private async send(
    run: DeliveryRun,
    stream: string,
    batch: LogBatch,
    cut: ReaderCounts,
    tally: CheckpointTally,
    last: boolean,
  ): Promise<void> {
    await run.claim.ensureHeld();
    if (run.deadline.remainingMs() < this.deps.reserveMs) {
      const { batches, eventsDelivered } = tally.acked;
      throw new DeadlineReachedError(
        `time budget reached after ${batches} batches (${eventsDelivered} events); the next attempt resumes there`,
      );
    }
    const logs = this.deps.cloudWatchLogs(run.session);
    const result = await this.deps.call(
      () => logs.putLogEvents(this.group, stream, batch.events, this.groupSettings),
      run.deadline,
    );
    const refused = rejectedCount(result, batch.events.length);
    const checkpoint = tally.checkpointAfter(batch, refused, cut);
    if (!last) await run.claim.save(checkpoint);
    tally.acknowledge(checkpoint, refused);
  }

  private reportBadLines(run: DeliveryRun, stats: ReadStats): void {
    if (stats.badLines === 0) return;
    this.deps.telemetry.log("warn", "bad lines skipped", {
      tenant_id: this.key.tenantId,
      key: run.ref.key,
      bad_lines: stats.badLines,
      samples: stats.badSamples,
    });
  }
}

/** A read that broke off: permanent failures as they are, anything else to reopen and resume. */
function asReadFailure(error: unknown): unknown {
  if (error instanceof InterruptedReadError || classify(error) === "permanent") return error;
  return new InterruptedReadError(`reading the object failed: ${describeError(error)}`, { cause: error });
}
