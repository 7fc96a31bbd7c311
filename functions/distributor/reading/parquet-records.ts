import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { CorruptObjectError } from "../errors";
import type { ObjectRanges } from "../ports";
import { type LogEvent, type ReadOptions, type ReadStats, recordBadLine, recordToEvent } from "./log-records";

/** Staged objects in Parquet (the Firehose ingestion option with format conversion). */
export const isParquetKey = (key: string) => key.endsWith(".parquet");

/** Events are handed on in chunks of this many rows, so batching starts before a row group ends. */
const CHUNK_ROWS = 5_000;

/**
 * Rows decoded at a time. A row group is never decoded whole (Firehose writes up to its block
 * size, 64-128 MiB of events, per group): its compressed column chunks are read once, then each
 * slice decodes only the pages that hold its rows (pages before it are skipped, not decompressed).
 */
export const SLICE_ROWS = 10_000;

const plain = (v: unknown) =>
  v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** A row whose values JSON holds as they are (strings, numbers, null: Firehose's rows) is used as is. */
function jsonSafeRow(row: Record<string, unknown>): unknown {
  for (const key in row) if (!plain(row[key])) return jsonSafe(row);
  return row;
}

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
 * `file`, with each byte range read once and then served from memory (the same ArrayBuffer, not a
 * copy): a row group's column chunks, read for its first slice, for all the others. Made anew
 * for each row group, so memory holds one group's compressed chunks.
 */
function readingOnce(file: AsyncBuffer): AsyncBuffer {
  const held = new Map<string, Promise<ArrayBuffer>>();
  return {
    byteLength: file.byteLength,
    slice: (from, to = file.byteLength) => {
      const key = `${from}:${to}`;
      let bytes = held.get(key);
      if (!bytes) {
        bytes = Promise.resolve(file.slice(from, to));
        held.set(key, bytes);
      }
      return bytes;
    },
  };
}

/**
 * Reads a Parquet object one row group at a time (footer first, through range reads) and yields
 * its rows as events, the same way NDJSON records become events. Memory is bounded by one row
 * group's compressed bytes and one slice of decoded rows (SLICE_ROWS), not by a decoded group.
 * Errors of `object.read` (S3) pass through unchanged, so they keep their retry class; a file that
 * is not valid Parquet throws CorruptObjectError after the rows before the damage.
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
        // A read of its own buffer is handed over as it is; a view into a larger one is copied out.
        if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
          return bytes.buffer as ArrayBuffer;
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
  let groupStart = 0;
  for (const [index, group] of metadata.row_groups.entries()) {
    const groupEnd = groupStart + Number(group.num_rows);
    const groupFile = readingOnce(file);
    for (let sliceStart = groupStart; sliceStart < groupEnd; sliceStart += SLICE_ROWS) {
      const sliceEnd = Math.min(sliceStart + SLICE_ROWS, groupEnd);
      const rows = await decoding(`row group ${index}`, () =>
        parquetReadObjects({
          file: groupFile,
          metadata,
          rowStart: sliceStart,
          rowEnd: sliceEnd,
          rowFormat: "object",
        }),
      );
      for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
        const out: LogEvent[] = [];
        for (const [j, row] of rows.slice(i, i + CHUNK_ROWS).entries()) {
          stats.lines++;
          const event = recordToEvent(jsonSafeRow(row), options.fallbackTimestampMs, options.records);
          if (typeof event === "string") recordBadLine(stats, sliceStart + i + j + 1, event);
          else {
            stats.events++;
            out.push(event);
          }
        }
        if (out.length > 0) yield out;
      }
    }
    groupStart = groupEnd;
  }
}
