import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { CorruptObjectError, ObjectCapError } from "../errors";

/** What one staged object may inflate to; past either cap it is refused (ObjectCapError). */
export interface ObjectLimits {
  /** Bytes after decompression (or as stored, when not gzipped). */
  readonly maxObjectBytes: number;
  /** Decompressed bytes per compressed byte, checked once RATIO_CHECK_AFTER_BYTES have inflated. */
  readonly maxCompressionRatio: number;
}

/**
 * The caps when none are set: 1 GiB is 16 times the largest collector batch the design plans for
 * (64 MB), and real log batches compress 8 to 75 times (a crash loop repeating one line: 74:1),
 * while a gzip bomb reaches about 1,000:1.
 */
export const DEFAULT_OBJECT_LIMITS: ObjectLimits = { maxObjectBytes: 1024 ** 3, maxCompressionRatio: 200 };

/** The ratio is judged only after this much output: a small object may compress far better. */
export const RATIO_CHECK_AFTER_BYTES = 16 * 1024 * 1024;

/**
 * A readable's chunks, taken as its "data" events come (at most `ahead` of them queued, then it is
 * paused): cheaper per chunk than the stream's async iterator, and the inflater is asked for the
 * next chunk as soon as one is taken, not when the reader comes back for it.
 */
async function* flowing(stream: Readable, ahead = 4): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    queue.push(chunk);
    if (queue.length >= ahead) stream.pause();
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  const onError = (error: unknown) => {
    failure = error;
    wake?.();
  };
  stream.on("data", onData).once("end", onEnd).once("error", onError);
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        if (stream.isPaused() && queue.length < ahead) stream.resume();
        yield chunk;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    stream.off("data", onData).off("end", onEnd).off("error", onError);
    if (!ended) stream.destroy();
  }
}

/**
 * Yields the object's bytes, gunzipped when they start with the gzip magic number, and throws
 * ObjectCapError before yielding past `limits`: memory stays one chunk, time stays linear in the
 * capped size, whatever the object claims to hold.
 */
export async function* decompress(
  source: AsyncIterable<Uint8Array>,
  limits: ObjectLimits = DEFAULT_OBJECT_LIMITS,
): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = Buffer.from(first.value);
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    let bytes = head.length;
    yield sizeChecked(head, bytes, limits);
    for await (const chunk of rest) {
      bytes += chunk.byteLength;
      yield sizeChecked(Buffer.from(chunk), bytes, limits);
    }
    return;
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield head;
    yield* rest;
  }
  // 256 KB of output per inflate call instead of zlib's 16 KB: 16 times fewer round trips to the
  // thread pool, where the reader would sit idle.
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const piping = pipeline(Readable.from(all()), gunzip);
  piping.catch(() => undefined); // errors surface through the iteration below
  try {
    let bytes = 0;
    for await (const chunk of flowing(gunzip)) {
      bytes += chunk.length;
      sizeChecked(chunk, bytes, limits);
      // bytesWritten: compressed bytes the inflater has consumed so far.
      if (bytes >= RATIO_CHECK_AFTER_BYTES && bytes > limits.maxCompressionRatio * gunzip.bytesWritten) {
        const ratio = Math.round(bytes / Math.max(1, gunzip.bytesWritten));
        throw new ObjectCapError(
          `object inflates ${ratio}:1 (${bytes} bytes from ${gunzip.bytesWritten}), past MAX_COMPRESSION_RATIO ${limits.maxCompressionRatio}:1: refused as a gzip bomb`,
        );
      }
      yield chunk;
    }
    await piping;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("Z_")) {
      throw new CorruptObjectError(`object is not valid gzip: ${(e as Error).message}`);
    }
    throw e;
  }
}

/** The chunk, if the object is still within its size cap after it (`bytes` so far, this chunk included). */
function sizeChecked(chunk: Buffer, bytes: number, limits: ObjectLimits): Buffer {
  if (bytes > limits.maxObjectBytes)
    throw new ObjectCapError(
      `object is larger than MAX_OBJECT_BYTES (${limits.maxObjectBytes} bytes) once decompressed: refused`,
    );
  return chunk;
}
