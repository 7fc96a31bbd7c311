import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { CorruptObjectError } from "./errors";
import { type LogEvent, type ReadOptions, type ReadStats, recordBadLine, recordToEvent } from "./log-records";
import type { ObjectRanges } from "./ports";

/** Staged objects in Parquet (the Firehose ingestion option with format conversion). */
export const isParquetKey = (key: string) => key.endsWith(".parquet");

/** Events are handed on in chunks of this many rows, so batching starts before a row group ends. */
const CHUNK_ROWS = 5_000;

/** Row values as JSON can hold them: 64-bit integers, dates and bytes become text or numbers. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

/**
 * Reads a Parquet object one row group at a time (footer first, through range reads) and yields
 * its rows as events, the same way NDJSON records become events: memory is bounded by one row
 * group. Errors of `object.read` (S3) pass through unchanged, so they keep their retry class; a
 * file that is not valid Parquet throws CorruptObjectError after the rows before the damage.
 */
export async function* readParquetEvents(
  object: ObjectRanges,
  options: ReadOptions,
  stats: ReadStats,
): AsyncGenerator<LogEvent[]> {
  const readErrors = new WeakSet<object>();
  const file: AsyncBuffer = {
    byteLength: object.size,
    slice: async (start, end) => {
      try {
        const bytes = await object.read(start, end ?? object.size);
        stats.bytes += bytes.byteLength;
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      } catch (error) {
        if (error !== null && typeof error === "object") readErrors.add(error);
        throw error;
      }
    },
  };
  const decoding = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      if (error !== null && typeof error === "object" && readErrors.has(error)) throw error;
      throw new CorruptObjectError(`object is not valid Parquet (${what}): ${(error as Error).message}`);
    }
  };

  if (object.size < 12)
    throw new CorruptObjectError(`object is not valid Parquet: only ${object.size} bytes`);
  const metadata = await decoding("footer", () => parquetMetadataAsync(file));
  let rowStart = 0;
  for (const [index, group] of metadata.row_groups.entries()) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await decoding(`row group ${index}`, () =>
      parquetReadObjects({ file, metadata, rowStart, rowEnd, rowFormat: "object" }),
    );
    for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
      const out: LogEvent[] = [];
      for (const [j, row] of rows.slice(i, i + CHUNK_ROWS).entries()) {
        stats.lines++;
        const event = recordToEvent(jsonSafe(row), options.fallbackTimestampMs);
        if (typeof event === "string") recordBadLine(stats, rowStart + i + j + 1, event);
        else {
          stats.events++;
          out.push(event);
        }
      }
      if (out.length > 0) yield out;
    }
    rowStart = rowEnd;
  }
}
