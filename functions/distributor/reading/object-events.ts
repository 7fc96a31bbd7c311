import { classify, describeError, InterruptedReadError } from "../errors";
import type { ObjectRef } from "../intake/notification";
import type { ObjectIdentity } from "../model/ledger";
import type { ObjectSource } from "../ports";
import { DEFAULT_OBJECT_LIMITS, type ObjectLimits } from "./decompress";
import { type EventChunk, type ReadStats, readLogEvents } from "./log-records";
import { isParquetKey, readParquetEvents } from "./parquet-records";

/**
 * Opens a fresh read of one object version's events; each call starts at the first byte.
 * `records`: keep each event's staged record (ReadOptions.records).
 */
export type EventReader = (stats: ReadStats, records?: boolean) => Promise<AsyncIterable<EventChunk>>;

/**
 * The events of a staged object of any format, streamed: gzipped or plain NDJSON, or Parquet
 * (read by byte ranges, each range read through `call`, which retries like any S3 call). Records
 * without a usable time get the object's time. A body that breaks off, or ends before its
 * Content-Length, throws InterruptedReadError (transient: reopen and resume), never a corrupt-gzip
 * verdict or a silently short object.
 */
export function objectEvents(
  objects: ObjectSource,
  ref: ObjectRef,
  pin: ObjectIdentity | undefined,
  call: <T>(operation: () => Promise<T>) => Promise<T>,
  limits: ObjectLimits = DEFAULT_OBJECT_LIMITS,
): EventReader {
  return async (stats, records = false) => {
    if (isParquetKey(ref.key)) {
      const object = await call(() => objects.ranges(ref.bucket, ref.key, pin));
      const fallbackTimestampMs = (object.lastModified ?? ref.eventTime).getTime();
      const ranges = { ...object, read: (start: number, end: number) => call(() => object.read(start, end)) };
      return readParquetEvents(ranges, { fallbackTimestampMs, records }, stats);
    }
    const object = await call(() => objects.open(ref.bucket, ref.key, pin));
    const fallbackTimestampMs = (object.lastModified ?? ref.eventTime).getTime();
    const body = wholeBody(object.body, object.contentLength, `s3://${ref.bucket}/${ref.key}`);
    return readLogEvents(body, { fallbackTimestampMs, limits, records }, stats);
  };
}

async function* wholeBody(
  body: AsyncIterable<Uint8Array>,
  contentLength: number | undefined,
  what: string,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      yield chunk;
    }
  } catch (error) {
    if (classify(error) === "permanent") throw error;
    throw new InterruptedReadError(
      `reading ${what} broke off after ${bytes} bytes: ${describeError(error)}`,
      { cause: error },
    );
  }
  if (contentLength !== undefined && bytes < contentLength) {
    throw new InterruptedReadError(`reading ${what} ended after ${bytes} of ${contentLength} bytes`);
  }
}
