import type { DeliveryCounts } from "../../model/counts";
import type { Checkpoint } from "../../model/ledger";
import type { ReadStats } from "../../reading/log-records";
import { newShapingCounts, type ShapingCounts } from "../../shaping/shaper";

/** What a batch carries as far as counting goes: how many units, and their bytes. */
export interface CountedBatch {
  readonly units: number;
  readonly bytes: number;
}

/** What the reader had counted when a batch was cut: a checkpoint covers only what comes before its position. */
export interface ReaderCounts {
  readonly rejected: number;
  readonly split: number;
  readonly badLines: number;
  readonly filtered: number;
}

/**
 * The counting of one read of an object that resumes from checkpoint `from`. Units (events, or the
 * pieces of split events) are numbered in reading order; those up to `from.position` were delivered
 * before and are skipped. Events rejected by the accept window and events split are counted as they
 * are read, but only past the checkpoint: up to it, they are in `from`'s counts already. Each
 * acknowledged batch gives the next checkpoint.
 */
export class CheckpointTally {
  private seen = 0;
  private rejectedRead = 0;
  private splitRead = 0;
  private filteredRead = 0;
  /** Filtered by reason and redactions by rule, past the checkpoint. */
  readonly shaping: ShapingCounts = newShapingCounts();
  /** Where redactions of events the checkpoint covers are counted: nowhere that is reported. */
  private readonly uncounted: ShapingCounts = newShapingCounts();
  /** Events CloudWatch refused (rejectedLogEventsInfo) in acknowledged batches. */
  private refused = 0;
  private last: Checkpoint;

  constructor(
    private readonly from: Checkpoint,
    private readonly stats: Pick<ReadStats, "badLines">,
  ) {
    this.last = from;
  }

  /** The last acknowledged checkpoint (`from` until a batch is acknowledged). */
  get acked(): Checkpoint {
    return this.last;
  }

  /** Numbers the next unit; true when it was delivered before (at or below the checkpoint). */
  skipUnit(): boolean {
    this.seen++;
    return this.seen <= this.from.position;
  }

  /** Past the checkpoint (or starting fresh): what is read now is not in `from`'s counts. */
  private counting(): boolean {
    return this.seen > this.from.position || this.from.position === 0;
  }

  /** An event the destination cannot take (outside CloudWatch's accept window, too large): not sent, counted as rejected. */
  rejected(): void {
    if (this.counting()) this.rejectedRead++;
  }

  /** An event the config's filter keeps back, and why (`include`, `exclude.<n>`). */
  filtered(reason: string): void {
    if (!this.counting()) return;
    this.filteredRead++;
    this.shaping.filtered[reason] = (this.shaping.filtered[reason] ?? 0) + 1;
  }

  /** Where the next unit's redactions are counted: reported only past the checkpoint. */
  redactions(): ShapingCounts["redactions"] {
    return this.seen >= this.from.position ? this.shaping.redactions : this.uncounted.redactions;
  }

  /** An event over the size limit, sent in pieces. */
  split(): void {
    if (this.counting()) this.splitRead++;
  }

  /** The reader's counts now, for the batch being cut. */
  cut(): ReaderCounts {
    return {
      rejected: this.rejectedRead,
      split: this.splitRead,
      badLines: this.stats.badLines,
      filtered: this.filteredRead,
    };
  }

  /** The checkpoint once `batch` (cut with `cut`) is acknowledged with `refused` events refused. */
  checkpointAfter(batch: CountedBatch, refused: number, cut: ReaderCounts): Checkpoint {
    const acked = this.last;
    return {
      eventsDelivered: acked.eventsDelivered + batch.units - refused,
      eventsRejected: this.from.eventsRejected + cut.rejected + this.refused + refused,
      eventsSplit: this.from.eventsSplit + cut.split,
      badLines: cut.badLines,
      bytes: acked.bytes + batch.bytes,
      batches: acked.batches + 1,
      eventsFiltered: this.from.eventsFiltered + cut.filtered,
      position: acked.position + batch.units,
      windowNowMs: this.from.windowNowMs,
      batching: this.from.batching,
    };
  }

  /** Records `checkpoint` (from checkpointAfter) as acknowledged. */
  acknowledge(checkpoint: Checkpoint, refused: number): void {
    this.refused += refused;
    this.last = checkpoint;
  }

  /** The counts to report: what was acknowledged, and everything the reader counted so far. */
  counts(): DeliveryCounts {
    return {
      eventsDelivered: this.last.eventsDelivered,
      eventsRejected: this.from.eventsRejected + this.rejectedRead + this.refused,
      eventsSplit: this.from.eventsSplit + this.splitRead,
      badLines: this.stats.badLines,
      bytes: this.last.bytes,
      batches: this.last.batches,
      eventsFiltered: this.from.eventsFiltered + this.filteredRead,
    };
  }
}
