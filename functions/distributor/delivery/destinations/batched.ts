import type { LogObjectKey } from "../../admission/object-key";
import {
  CorruptObjectError,
  classify,
  DeadlineReachedError,
  describeError,
  InterruptedReadError,
  ObjectCapError,
} from "../../errors";
import { countsOf } from "../../model/counts";
import type { Checkpoint } from "../../model/ledger";
import type { SessionRequest } from "../../ports";
import { type EventChunk, newReadStats, type ReadStats } from "../../reading/log-records";
import type { Shaper } from "../../shaping/shaper";
import { backoffDelay } from "../retry";
import { CheckpointTally, type CountedBatch, type ReaderCounts } from "./checkpoint-tally";
import type { Attempt, DeliveryRun, Destination, DestinationDeps } from "./destination";
import { OrderedSender } from "./ordered-sender";

/** Packs units into the batches one call takes, in reading order. */
export interface UnitBatcher<U, B extends CountedBatch> {
  /** Adds a unit of `size` bytes; returns the batch it closed, if it closed one. */
  add(unit: U, size: number): B | undefined;
  /** The batch being filled, if any, closing it. */
  flush(): B | undefined;
}

/** Units and their bytes, in reading order. */
export interface UnitBatch<U> {
  readonly events: U[];
  readonly bytes: number;
  readonly units: number;
}

/**
 * Packs units greedily in reading order: a batch closes when the next unit would pass `maxUnits`
 * or `maxBytes` (a unit larger than `maxBytes` is a batch of its own).
 */
export class GreedyBatcher<U> implements UnitBatcher<U, UnitBatch<U>> {
  private units: U[] = [];
  private bytes = 0;

  constructor(
    private readonly maxUnits: number,
    private readonly maxBytes: number,
  ) {}

  add(unit: U, size: number): UnitBatch<U> | undefined {
    const full = this.units.length === this.maxUnits || this.bytes + size > this.maxBytes;
    const closed = full ? this.flush() : undefined;
    this.units.push(unit);
    this.bytes += size;
    return closed;
  }

  flush(): UnitBatch<U> | undefined {
    if (this.units.length === 0) return undefined;
    const batch = { events: this.units, bytes: this.bytes, units: this.units.length };
    this.units = [];
    this.bytes = 0;
    return batch;
  }
}

/** The units one event becomes, written into reused arrays (most events are one unit). */
export interface Units<U> {
  readonly units: U[];
  readonly sizes: number[];
  count: number;
}

/** One read of the object: what it ended with, and the last checkpoint it reached. */
interface Pass {
  readonly attempt: Attempt;
  readonly acked: Checkpoint;
}

/**
 * A destination that sends an object's events in batches, each checkpointed once accepted: a
 * later attempt re-reads, re-shapes and re-batches the same way and sends nothing up to the
 * checkpoint; a read that breaks off is reopened (same version) and resumed from the last
 * acknowledged batch while the deadline allows. The config's filter drops events before they are
 * numbered; what a unit is, how units are batched and how a batch is sent are the subclass's.
 */
export abstract class BatchedDestination<U, B extends CountedBatch> implements Destination {
  abstract readonly type: Destination["type"];
  abstract readonly target: string;
  abstract readonly sessionRequest: SessionRequest;
  /** Version of the rules that cut an object into units and batches (a checkpoint names it). */
  protected abstract readonly batchingVersion: string;

  constructor(
    protected readonly key: LogObjectKey,
    protected readonly deps: DestinationDeps,
    protected readonly shaper: Shaper | undefined,
    /** The reader keeps each event's staged record. */
    private readonly records: boolean,
  ) {}

  protected abstract newBatcher(): UnitBatcher<U, B>;

  /** Fills `out` with the units event `chunk[index]` becomes (none when the destination refuses it). */
  protected abstract unitsOf(
    chunk: EventChunk,
    index: number,
    windowNowMs: number,
    tally: CheckpointTally,
    out: Units<U>,
  ): void;

  /**
   * Sends one batch, the object's `ordinal`th (from 1, the same on every attempt); returns how many
   * of its units the service refused (counted as rejected).
   */
  protected abstract sendBatch(run: DeliveryRun, batch: B, ordinal: number): Promise<number>;

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

  /** The batching version with the config's rules: a checkpoint of other rules starts again. */
  private get version(): string {
    return this.shaper ? `${this.batchingVersion}+${this.shaper.fingerprint}` : this.batchingVersion;
  }

  private startingPoint(run: DeliveryRun): Checkpoint {
    const saved = run.claim.checkpoint;
    const fresh: Checkpoint = {
      ...countsOf(),
      position: 0,
      windowNowMs: this.deps.now(),
      batching: this.version,
    };
    if (!saved) return fresh;
    if (saved.batching !== this.version) {
      this.deps.telemetry.log("warn", "checkpoint_version_mismatch: delivering from the first event again", {
        tenant_id: this.key.tenantId,
        key: run.ref.key,
        target: this.target,
        checkpoint_batching: saved.batching,
        batching: this.version,
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
    const batcher = this.newBatcher();
    const send = (batch: B, cut: ReaderCounts, last = false) => this.send(run, batch, cut, tally, last);
    /** Adds a unit; a promise only when it completed a batch (most units cost no await). */
    const add = (unit: U, size: number): Promise<void> | undefined => {
      if (tally.skipUnit()) return undefined;
      const full = batcher.add(unit, size);
      // The reader's counts up to the unit that starts the next batch.
      return full ? sender.send(() => send(full, tally.cut())) : undefined;
    };
    const end = (error?: unknown): Pass => ({
      attempt: {
        counts: tally.counts(),
        ...(this.shaper && { shaping: tally.shaping }),
        ...(error !== undefined && { error }),
      },
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
   * Reads the object's events into `add`, through the config's filter and the destination's units.
   * Returns the read's failure, if it broke off; a send's failure is thrown.
   */
  private async readInto(
    run: DeliveryRun,
    stats: ReadStats,
    windowNowMs: number,
    tally: CheckpointTally,
    add: (unit: U, size: number) => Promise<void> | undefined,
  ): Promise<unknown> {
    const events = (await run.events(stats, this.records))[Symbol.asyncIterator]();
    const out: Units<U> = { units: [], sizes: [], count: 0 };
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
        if (this.shaper) {
          const reason = this.shaper.verdict(chunk[i]!);
          if (reason !== undefined) {
            tally.filtered(reason);
            continue;
          }
        }
        out.count = 0;
        this.unitsOf(chunk, i, windowNowMs, tally, out);
        for (let u = 0; u < out.count; u++) {
          const completed = add(out.units[u]!, out.sizes[u]!);
          if (completed) await completed;
        }
      }
    }
  }

  /**
   * Sends one batch and checkpoints it. `last`: the object's final batch, whose checkpoint is the
   * completion the engine writes next.
   */
  private async send(run: DeliveryRun, batch: B, cut: ReaderCounts, tally: CheckpointTally, last: boolean) {
    await run.claim.ensureHeld();
    if (run.deadline.remainingMs() < this.deps.reserveMs) {
      const { batches, eventsDelivered } = tally.acked;
      throw new DeadlineReachedError(
        `time budget reached after ${batches} batches (${eventsDelivered} events); the next attempt resumes there`,
      );
    }
    // Batches are sent one after the other: this one follows the last acknowledged.
    const refused = await this.sendBatch(run, batch, tally.acked.batches + 1);
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

/**
 * Event `chunk[index]` as the destinations that receive records take it: its staged record (or,
 * without one, its time and message), redacted by `shaper`, as one JSON line. Undefined, and
 * counted as rejected, when it is nested too deep to serialize (a short line can be).
 */
export function recordLine(
  chunk: EventChunk,
  index: number,
  shaper: Shaper | undefined,
  tally: CheckpointTally,
): Buffer | undefined {
  const event = chunk[index]!;
  const record = event.record ?? {
    timestamp: new Date(event.timestamp).toISOString(),
    message: event.message,
  };
  shaper?.redactRecord(record, tally.redactions());
  try {
    return Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
  } catch {
    tally.rejected();
    return undefined;
  }
}
