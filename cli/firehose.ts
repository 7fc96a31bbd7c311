import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { type FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { z } from "zod";
import {
  DEFAULT_RETRY,
  type RetryHooks,
  type RetryPolicy,
  withRetry,
} from "../functions/distributor/delivery/retry";
import { describeError } from "../functions/distributor/errors";
import { decompress } from "../functions/distributor/reading/decompress";
import { recordBadLine } from "../functions/distributor/reading/log-records";

/**
 * Re-puts records that Firehose wrote to its error output (for example `activePartitionExceeded`
 * when more partitions were active than the stream allows) back into the stream, from the
 * `rawData` of each error record. With --delete an object is finished once: its good records go
 * back in, its unusable lines (not error records, too large) are kept in one object under
 * UNUSABLE_PREFIX with the reason of each, and the source is removed. An object whose records
 * Firehose refused (or that could not be read) is kept whole and reported with the reason.
 */

/** Where unusable lines of redriven error objects are kept (outside the redrive's listing). */
export const UNUSABLE_PREFIX = "_firehose-unusable/";

/** PutRecordBatch limits: 500 records and 4 MiB per call, 1,000 KiB per record. */
export const PUT_RECORD_BATCH = { maxRecords: 500, maxBytes: 4 * 1024 * 1024, maxRecordBytes: 1_000 * 1024 };

export interface ErrorObjectSource {
  list(prefix: string): AsyncIterable<string>;
  open(key: string): Promise<AsyncIterable<Uint8Array>>;
  /** Writes an object (the unusable lines of a redriven one). */
  put(key: string, body: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface RecordSink {
  /** One PutRecordBatch; resolves with the indexes Firehose refused and why. */
  putBatch(records: Uint8Array[]): Promise<{ failed: { index: number; reason: string }[] }>;
}

export interface RedriveOptions {
  readonly prefix: string;
  /** Delete each object once all of its records are back in the stream. @default false */
  readonly delete?: boolean;
  /** Count and check only; put nothing. @default false */
  readonly dryRun?: boolean;
  /** Attempts per batch, and for the records a batch refused. @default 5 */
  readonly retry?: RetryPolicy;
  readonly retryHooks?: RetryHooks;
}

export interface ObjectReport {
  readonly key: string;
  records: number;
  redriven: number;
  failed: number;
  /** Lines that are not error records (kept in the object: it is not deleted). */
  badLines: number;
  badSamples: { line: number; reason: string }[];
  deleted: boolean;
  /** Where its unusable lines were kept, when it had some and was finished. */
  unusable?: string;
  error?: string;
}

/** An error record as Firehose writes it; only rawData (base64 of the original record) is needed. */
const ErrorRecord = z
  .object({
    rawData: z
      .string()
      .min(1, "rawData is empty")
      .regex(/^[A-Za-z0-9+/]*={0,2}$/, "rawData is not base64"),
  })
  .passthrough();

const MAX_BAD_SAMPLES = 10;

export async function redriveErrorOutput(
  source: ErrorObjectSource,
  sink: RecordSink,
  options: RedriveOptions,
  onObject: (report: ObjectReport) => void = () => {},
): Promise<ObjectReport[]> {
  const reports: ObjectReport[] = [];
  for await (const key of source.list(options.prefix)) {
    const report: ObjectReport = {
      key,
      records: 0,
      redriven: 0,
      failed: 0,
      badLines: 0,
      badSamples: [],
      deleted: false,
    };
    try {
      const unusable: string[] = [];
      await redriveObject(key, source, sink, options, report, unusable);
      // Every good record is back in the stream: keep the unusable lines (with why), remove the source.
      if (options.delete && !options.dryRun && report.failed === 0 && report.error === undefined) {
        if (unusable.length > 0) {
          const kept = `${UNUSABLE_PREFIX}${key.replace(/^_firehose-errors\//, "")}.jsonl`;
          await source.put(kept, `${unusable.join("\n")}\n`);
          report.unusable = kept;
        }
        await source.delete(key);
        report.deleted = true;
      }
    } catch (error) {
      report.error = describeError(error);
    }
    reports.push(report);
    onObject(report);
  }
  return reports;
}

/** Some records of a batch were refused: transient (retried with the rest of the batch's budget). */
class RecordsRefusedError extends Error {
  override readonly name = "RecordsRefusedError";
}

async function redriveObject(
  key: string,
  source: ErrorObjectSource,
  sink: RecordSink,
  options: RedriveOptions,
  report: ObjectReport,
  unusable: string[],
): Promise<void> {
  const retry = <T>(op: () => Promise<T>) =>
    withRetry(op, options.retry ?? DEFAULT_RETRY, options.retryHooks);
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    batchBytes = 0;
    if (options.dryRun) {
      report.redriven += records.length;
      return;
    }
    // One level of retries: whole-call failures (throttling, 5xx) and refused records alike; each
    // attempt sends only what is still pending.
    let pending = records;
    try {
      await retry(async () => {
        const { failed } = await sink.putBatch(pending);
        report.redriven += pending.length - failed.length;
        const refused = failed.map((f) => pending[f.index]!);
        if (refused.length > 0) {
          pending = refused;
          throw new RecordsRefusedError(`Firehose refused ${refused.length} record(s): ${failed[0]!.reason}`);
        }
        pending = [];
      });
    } catch (error) {
      if (!(error instanceof RecordsRefusedError)) throw error;
      report.error = error.message;
    }
    report.failed += pending.length;
  };

  const body = await retry(() => source.open(key));
  const lines = createInterface({
    input: Readable.from(decompress(body)),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNo = 0;
  let current = "";
  const bad = (reason: string) => {
    recordBadLine(report, lineNo, reason, MAX_BAD_SAMPLES);
    unusable.push(JSON.stringify({ source: key, line: lineNo, reason, text: current }));
  };
  for await (const line of lines) {
    current = line;
    lineNo++;
    if (line.trim() === "") continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      bad("not JSON");
      continue;
    }
    const parsed = ErrorRecord.safeParse(doc);
    if (!parsed.success) {
      bad(parsed.error.issues.map((i) => `${i.path.join(".") || "record"}: ${i.message}`).join("; "));
      continue;
    }
    const record = Buffer.from(parsed.data.rawData, "base64");
    if (record.length > PUT_RECORD_BATCH.maxRecordBytes) {
      bad(`record of ${record.length} bytes is over Firehose's ${PUT_RECORD_BATCH.maxRecordBytes}`);
      continue;
    }
    report.records++;
    if (
      batch.length >= PUT_RECORD_BATCH.maxRecords ||
      batchBytes + record.length > PUT_RECORD_BATCH.maxBytes
    ) {
      await flush();
    }
    batch.push(record);
    batchBytes += record.length;
  }
  await flush();
}

/** Error objects under a prefix of the staging bucket. */
export function s3ErrorObjects(s3: S3Client, bucket: string): ErrorObjectSource {
  return {
    async *list(prefix) {
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) if (o.Key) yield o.Key;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async open(key) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!out.Body) throw new Error(`GetObject s3://${bucket}/${key} returned no body`);
      return out.Body as AsyncIterable<Uint8Array>;
    },
    async put(key, body) {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/x-ndjson" }),
      );
    },
    async delete(key) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

/** PutRecordBatch into one delivery stream; refused records come back with Firehose's reason. */
export function firehoseSink(firehose: FirehoseClient, stream: string): RecordSink {
  return {
    async putBatch(records) {
      const out = await firehose.send(
        new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: records.map((Data) => ({ Data })) }),
      );
      if (!out.FailedPutCount) return { failed: [] };
      const failed = (out.RequestResponses ?? []).flatMap((r, index) =>
        r.ErrorCode ? [{ index, reason: `${r.ErrorCode} ${r.ErrorMessage ?? ""}`.trim() }] : [],
      );
      return { failed };
    },
  };
}
