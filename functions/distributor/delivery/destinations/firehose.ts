import { type FirehoseConfig, streamNameOf } from "../../../shared/delivery-config";
import type { LogObjectKey } from "../../admission/object-key";
import { DeadlineReachedError } from "../../errors";
import type { SessionRequest } from "../../ports";
import type { EventChunk } from "../../reading/log-records";
import { Shaper } from "../../shaping/shaper";
import { backoffDelay } from "../retry";
import { BatchedDestination, GreedyBatcher, recordLine, type UnitBatch, type Units } from "./batched";
import type { CheckpointTally } from "./checkpoint-tally";
import { type DeliveryRun, type DestinationDeps, sessionRequestFor, targetOf } from "./destination";

/**
 * PutRecordBatch limits (Amazon Data Firehose API reference): at most 500 records and 4 MiB per
 * call, each record at most 1,000 KiB.
 */
export const PUT_RECORD_BATCH_LIMITS = {
  maxRecords: 500,
  maxBatchBytes: 4 * 1024 * 1024,
  maxRecordBytes: 1_024_000,
};

/** Version of the rules that cut an object into records and batches (see BATCHING_VERSION). */
export const FIREHOSE_BATCHING_VERSION = "fh-1";

export type RecordBatch = UnitBatch<Uint8Array>;

/** Session policy of the customer-role hop: PutRecordBatch on this one stream. */
export function firehoseSessionPolicy(streamArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "firehose:PutRecordBatch", Resource: streamArn }],
  });
}

/** Packs records greedily in reading order into calls that keep PutRecordBatch's limits. */
export const recordBatcher = () =>
  new GreedyBatcher<Uint8Array>(PUT_RECORD_BATCH_LIMITS.maxRecords, PUT_RECORD_BATCH_LIMITS.maxBatchBytes);

/**
 * Delivers an object's events into a Firehose stream in the customer's account, one record per
 * event: the staged record after the config's filter and redaction, as one JSON line. A record
 * over 1,000 KiB is not sent and counts as rejected. Records Firehose refuses one by one
 * (FailedPutCount) are sent again, alone, until accepted or the deadline: the batch's checkpoint
 * is written only once all of it is in.
 */
export class FirehoseDestination extends BatchedDestination<Uint8Array, RecordBatch> {
  readonly type = "firehose" as const;
  readonly target: string;
  readonly sessionRequest: SessionRequest;
  protected readonly batchingVersion = FIREHOSE_BATCHING_VERSION;
  private readonly streamName: string;

  constructor(config: FirehoseConfig, key: LogObjectKey, region: string, deps: DestinationDeps) {
    super(key, deps, Shaper.of(config), true);
    this.streamName = streamNameOf(config.delivery_stream_arn);
    this.target = targetOf(config, region);
    this.sessionRequest = sessionRequestFor(
      config,
      key,
      region,
      firehoseSessionPolicy(config.delivery_stream_arn),
    );
  }

  protected newBatcher(): GreedyBatcher<Uint8Array> {
    return recordBatcher();
  }

  /** The event's record, redacted, as one JSON line; none when it is too large (or too deep) to send. */
  protected unitsOf(
    chunk: EventChunk,
    index: number,
    _window: number,
    tally: CheckpointTally,
    out: Units<Uint8Array>,
  ): void {
    const line = recordLine(chunk, index, this.shaper, tally);
    if (line === undefined) return;
    if (line.length > PUT_RECORD_BATCH_LIMITS.maxRecordBytes) {
      tally.rejected();
      this.deps.telemetry.log("warn", "record over Firehose's 1,000 KiB not sent (counted as rejected)", {
        tenant_id: this.key.tenantId,
        target: this.target,
        record_bytes: line.length,
      });
      return;
    }
    out.units[0] = line;
    out.sizes[0] = line.length;
    out.count = 1;
  }

  protected async sendBatch(run: DeliveryRun, batch: RecordBatch): Promise<number> {
    const firehose = this.deps.firehose(run.session);
    let pending: readonly Uint8Array[] = batch.events;
    for (let retry = 1; ; retry++) {
      const { failed } = await this.deps.call(
        () => firehose.putRecordBatch(this.streamName, pending),
        run.deadline,
      );
      if (failed.length === 0) return 0;
      const delay = backoffDelay(retry, { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 5_000 });
      if (run.deadline.remainingMs() - delay < this.deps.reserveMs)
        throw new DeadlineReachedError(
          `time budget reached with ${failed.length} of a batch's ${batch.events.length} records refused by Firehose (${failed[0]!.code}: ${failed[0]!.message}); the next attempt sends that batch again`,
        );
      this.deps.telemetry.log("warn", "Firehose refused records of a batch; sending them again", {
        tenant_id: this.key.tenantId,
        target: this.target,
        refused: failed.length,
        code: failed[0]!.code,
      });
      pending = failed.map((f) => pending[f.index]!);
      await this.deps.sleep(delay);
    }
  }
}
