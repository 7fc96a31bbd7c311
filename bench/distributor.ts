/**
 * Benchmark of the distributor's hot path: read (gunzip), split, parse, filter and batch a large
 * object into a counting CloudWatch sink, through the real DeliveryEngine; beside it the floor,
 * plain gunzip + line split + JSON.parse of the same file. Each phase runs in its own process so
 * peak RSS is its own.
 *
 *   npm run bench                      # generates build/bench/events-<MB>mb.ndjson.gz once
 *   npm run bench -- --file PATH.gz    # any gzipped NDJSON object
 *   npm run bench -- --mb 200          # size of the generated object (uncompressed MB)
 *   npm run bench -- --format parquet  # the same events as Parquet (Firehose's format conversion:
 *                                      # Snappy, row groups of 128 MiB of events, --row-group-mb);
 *                                      # or --file PATH.parquet
 *   npm run bench -- --put-latency-ms 30  # PutLogEvents' time on the wire for the pipelined run
 *   npm run bench -- --pairs 5         # rounds of floor, path and the seeds' processor (default 3):
 *                                      # ratio_to_floor and ratio_to_seeds are per-round medians
 *   npm run bench -- --e2e             # also end to end: worker + engine against a fake AWS endpoint
 *                                      # (--latency-ms 30, --tenants 50, --concurrency N, --sweep,
 *                                      # --lambda-batches: the Lambda handler at batch sizes 1-100)
 *   npm run bench -- --e2e --noisy     # only fairness: one tenant's flood and 20 quiet tenants, with
 *                                      # and without isolation (--rounds 3, --latency-ms 30)
 *
 * For Parquet the floor is hyparquet decoding every row group into row objects. Every run also
 * builds the distributor's Lambda bundle and times its import (cold start). Phases run bundled, as
 * the function runs, with the V8 flags the stack gives it (NODE_OPTIONS for the default 1,024 MB).
 *
 * The last line printed is one JSON object with the figures.
 */

import { execFileSync } from "node:child_process";
import { once } from "node:events";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createGunzip, createGzip } from "node:zlib";
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import * as z from "zod";
import { NoLedger } from "../functions/distributor/adapters/dynamodb";
import { CachedRegistry, CachedTenantConfigs } from "../functions/distributor/admission/tenant-configs";
import {
  eventBytes,
  minimumBatches,
} from "../functions/distributor/delivery/destinations/cloudwatch/batching";
import { DeliveryEngine } from "../functions/distributor/delivery/engine";
import type { CloudWatchLogsApi, LogLevel, ObjectRanges } from "../functions/distributor/ports";
import { describeIssues } from "../functions/shared/delivery-config";
import { FilterSchema, RedactListSchema } from "../functions/shared/event-rules";
import { bundleNodeProgram } from "../stacks/constructs/bundle";
import { DEFAULT_FUNCTION_MEMORY_MB, functionNodeOptions } from "../stacks/constructs/nodejs-function";
import { coldStart } from "./cold-start";
import { E2E_DEFAULTS, e2eBench, lambdaBatchSweep } from "./e2e";
import { NOISY_DEFAULTS, noisyBench } from "./noisy";

const KEY = "bench-tenant/cluster-1/payment-service/payment-5f7c9-abcde/1763632800-bench.log.gz";
const PARQUET_KEY =
  "bench-tenant/cluster-1/payment-service/payment-5f7c9-abcde/ingest-1-2026-11-22-10-15-30-u.parquet";
/** Events per row group by default: 128 MiB of them, the largest block size Firehose is given here. */
const PARQUET_ROW_GROUP_MB = 128;
const isParquet = (path: string) => path.endsWith(".parquet");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Realistic Kubernetes app events: mostly 150-600 byte lines, some JSON payloads, a few stack traces. */
async function generate(path: string, targetMb: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const gzip = createGzip({ level: 6 });
  const out = gzip.pipe(createWriteStream(tmp));
  const levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
  const start = Date.now() - 3600_000;
  let written = 0;
  let i = 0;
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const words =
    "payment order customer invoice retry gateway latency upstream token session cache shard replica timeout accepted declined settled refund currency merchant card auth capture ledger queue worker".split(
      " ",
    );
  const text = (n: number) => {
    let t = "";
    while (t.length < n)
      t += `${words[Math.floor(rand() * words.length)]}${rand() < 0.2 ? `=${Math.floor(rand() * 1e6)}` : ""} `;
    return t;
  };
  while (written < targetMb * 1_000_000) {
    const r = rand();
    const detail =
      r < 0.9
        ? text(Math.floor(60 + rand() * 400))
        : r < 0.99
          ? JSON.stringify({
              order: i,
              items: Array.from({ length: 20 }, (_, k) => ({ sku: `SKU-${k}`, qty: k })),
            })
          : `java.lang.IllegalStateException: boom\n${"\tat com.example.Service.method(Service.java:42)\n".repeat(40)}`;
    // About 2% health checks, and about 5% of lines with a customer's e-mail and address (what
    // filters and redaction find).
    const who =
      rand() < 0.05 ? ` customer=user${i % 997}@example.com from 10.${i % 250}.${i % 200}.${i % 100}` : "";
    const message =
      rand() < 0.02
        ? `${new Date(start + i * 10).toISOString()} INFO GET /healthz 200 ${i % 9}ms`
        : `${new Date(start + i * 10).toISOString()} ${levels[i % levels.length]} [req-${i}] payment processed:${who} ${detail}`;
    const event = {
      message,
      timestamp: new Date(start + i * 10).toISOString(),
      tenant_id: "bench-tenant",
      cluster_id: "cluster-1",
      kubernetes: { namespace: "payments", pod_name: "payment-5f7c9-abcde", container_name: "app" },
    };
    const line = `${JSON.stringify(event)}\n`;
    written += line.length;
    i++;
    if (!gzip.write(line)) await once(gzip, "drain");
  }
  gzip.end();
  await once(out, "finish");
  renameSync(tmp, path);
}

/** The events of a gzipped NDJSON file as Parquet, every field a string column. */
async function toParquet(source: string, path: string, rowGroupMb: number): Promise<void> {
  const columns: Record<string, (string | null)[]> = {
    message: [],
    timestamp: [],
    tenant_id: [],
    cluster_id: [],
  };
  let carry = "";
  const gunzip = createReadStream(source).pipe(createGunzip());
  gunzip.setEncoding("utf8");
  const add = (line: string) => {
    const doc = JSON.parse(line) as Record<string, unknown>;
    for (const [name, values] of Object.entries(columns))
      values.push(typeof doc[name] === "string" ? (doc[name] as string) : null);
  };
  for await (const chunk of gunzip as AsyncIterable<string>) {
    const lines = (carry + chunk).split("\n");
    carry = lines.pop()!;
    for (const line of lines) if (line) add(line);
  }
  if (carry) add(carry);
  const eventBytes = Object.values(columns).reduce(
    (sum, values) => sum + values.reduce((n, v) => n + (v === null ? 0 : Buffer.byteLength(v)), 0),
    0,
  );
  const rows = columns.message!.length;
  const rowGroupRows = Math.max(1, Math.floor((rowGroupMb * 1024 ** 2) / (eventBytes / rows)));
  const buffer = parquetWriteBuffer({
    columnData: Object.entries(columns).map(([name, data]) => ({
      name,
      data,
      type: "STRING" as const,
      nullable: true,
    })),
    codec: "SNAPPY",
    rowGroupSize: rowGroupRows,
  });
  writeFileSync(`${path}.tmp`, Buffer.from(buffer));
  renameSync(`${path}.tmp`, path);
}

/** Byte-range reads of a local file: the engine's ObjectRanges port, and the floor's AsyncBuffer. */
function fileRanges(path: string): ObjectRanges {
  const fd = openSync(path, "r");
  return {
    size: fstatSync(fd).size,
    read: async (start, end) => {
      const buf = Buffer.alloc(end - start);
      readSync(fd, buf, 0, end - start, start);
      return buf;
    },
  };
}

/** Floor for Parquet: decode every row group into row objects, nothing else. */
async function parquetFloor(path: string) {
  const ranges = fileRanges(path);
  const file: AsyncBuffer = {
    byteLength: ranges.size,
    slice: async (start, end) => {
      const buf = await ranges.read(start, end ?? ranges.size);
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    },
  };
  const metadata = await parquetMetadataAsync(file);
  let events = 0;
  let bytes = 0;
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, rowFormat: "object" });
    events += rows.length;
    for (const row of rows) bytes += JSON.stringify(row).length + 1;
    rowStart = rowEnd;
  }
  return { events, bytes };
}

async function floor(path: string) {
  if (isParquet(path)) return parquetFloor(path);
  let events = 0;
  let bytes = 0;
  let carry = "";
  const gunzip = createReadStream(path).pipe(createGunzip());
  gunzip.setEncoding("utf8");
  for await (const chunk of gunzip as AsyncIterable<string>) {
    bytes += Buffer.byteLength(chunk);
    const lines = (carry + chunk).split("\n");
    carry = lines.pop()!;
    for (const line of lines) {
      if (line) {
        JSON.parse(line);
        events++;
      }
    }
  }
  if (carry) {
    JSON.parse(carry);
    events++;
  }
  return { events, bytes };
}

/** A mistake in the bench's own options: printed as one line, exit 2. */
class BenchUsageError extends Error {}

/**
 * The rules `--redact a,b` and `--exclude field=regex` (repeatable) give the bench's config,
 * checked by the schemas a config's rules pass through the API.
 */
function shapingRules(argv: readonly string[]): Record<string, unknown> {
  const value = (i: number, option: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new BenchUsageError(`${option} takes a value`);
    return v;
  };
  const redact = argv.includes("--redact")
    ? value(argv.indexOf("--redact"), "--redact").split(",")
    : undefined;
  const exclude = argv.flatMap((a, i) => {
    if (a !== "--exclude") return [];
    const pair = value(i, "--exclude");
    const at = pair.indexOf("=");
    if (at <= 0) throw new BenchUsageError(`--exclude takes field=regex, got ${JSON.stringify(pair)}`);
    return [{ field: pair.slice(0, at), regex: pair.slice(at + 1) }];
  });
  const rules = { ...(redact && { redact }), ...(exclude.length > 0 && { filter: { exclude } }) };
  const checked = z
    .object({ filter: FilterSchema.optional(), redact: RedactListSchema.optional() })
    .safeParse(rules);
  if (!checked.success)
    throw new BenchUsageError(`--redact/--exclude: ${describeIssues(checked.error).join("; ")}`);
  return rules;
}

async function engine(path: string, putLatencyMs = 0, rules: Record<string, unknown> = {}) {
  let batches = 0;
  let events = 0;
  let batchBytes = 0;
  // The sink's own counting (each message's UTF-8 size, for min_batches) is the bench's, not the
  // path's: its time is measured and left out of the path's seconds.
  let countingNs = 0n;
  const sink: CloudWatchLogsApi = {
    putLogEvents: async (_g, _s, evs) => {
      if (putLatencyMs > 0) await new Promise((r) => setTimeout(r, putLatencyMs));
      const counting = process.hrtime.bigint();
      batches++;
      events += evs.length;
      for (const e of evs) batchBytes += eventBytes(e.message);
      countingNs += process.hrtime.bigint() - counting;
      return {};
    },
  };
  const quiet = { log: (_l: LogLevel) => {}, metrics: () => {} };
  const e = new DeliveryEngine(
    {
      objects: {
        identify: async () => ({ eTag: "bench" }),
        ranges: async () => fileRanges(path),
        open: async () => ({
          body: createReadStream(path, { highWaterMark: 256 * 1024 }),
          lastModified: new Date(),
        }),
      },
      configs: new CachedTenantConfigs(
        {
          itemsFor: async () => [
            {
              tenant_id: "bench-tenant",
              type: "cloudwatch",
              log_distribution_role_arn: "arn:aws:iam::111111111111:role/LogDistribution",
              external_id: "ext-bench",
              log_group_name: "/bench",
              ...rules,
            },
          ],
        },
        60_000,
      ),
      registry: new CachedRegistry(
        { registrationOf: async () => ({ tenant_id: "bench-tenant", accounts: ["111111111111"] }) },
        60_000,
      ),
      credentials: {
        destinationSession: async (r) => ({
          credentials: { accessKeyId: "a", secretAccessKey: "b" },
          region: r.region,
          accountId: "111111111111",
          cacheKey: "k",
        }),
      },
      cloudWatchLogs: () => sink,
      firehose: () => ({ putRecordBatch: async () => ({ failed: [] }) }),
      objectWriter: { putObject: async () => {} },
      ledger: new NoLedger(),
      telemetry: quiet,
    },
    { region: "us-east-1", retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
  );
  const key = isParquet(path) ? PARQUET_KEY : KEY;
  const result = await e.deliverObject({ bucket: "central", key, eventTime: new Date() });
  if (result.status !== "delivered") throw new Error(`engine run failed: ${result.reason}`);
  const d = result.destinations[0]!;
  return {
    events,
    filtered: d.eventsFiltered,
    redactions: Object.values(d.redactions ?? {}).reduce((a, b) => a + b, 0),
    batches,
    batchBytes,
    rejected: d.eventsRejected,
    split: d.eventsSplit,
    bytes: statSync(path).size,
    sinkSeconds: Number(countingNs) / 1e9,
  };
}

async function phase(which: string, path: string) {
  const started = process.hrtime.bigint();
  const { sinkSeconds, ...result } =
    which === "floor"
      ? { ...(await floor(path)), sinkSeconds: 0 }
      : await engine(
          path,
          which === "engine-wire" ? Number(arg("put-latency-ms") ?? 30) : 0,
          which === "engine-shaped" ? shapingRules(process.argv) : {},
        );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9 - sinkSeconds;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ...result, seconds, peakRssMb })}\n`);
}

async function uncompressedBytes(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path).pipe(createGunzip())) n += (chunk as Buffer).length;
  return n;
}

interface PhaseResult {
  readonly events: number;
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly bytes: number;
  readonly batches: number;
  readonly batchBytes: number;
  readonly split: number;
  readonly rejected: number;
  readonly filtered: number;
  readonly redactions: number;
}

/**
 * The Python that runs the seeds' processor's CPU path (bench/seeds_processor.py); undefined (and
 * said) for Parquet, or without python3.
 */
function seedsPython(path: string): string | undefined {
  if (isParquet(path)) return undefined;
  try {
    return execFileSync("python3", ["--version"], { encoding: "utf8" })
      .trim()
      .replace(/^Python /, "");
  } catch {
    console.log("seeds' processor: python3 not found, not compared (install python3 to compare)");
    return undefined;
  }
}

/** One run of the seeds' processor on the object: its seconds. */
function seedsRun(path: string): number {
  const out = execFileSync("python3", [join(__dirname, "seeds_processor.py"), path], { encoding: "utf8" });
  return (JSON.parse(out.trim().split("\n").at(-1)!) as { seconds: number }).seconds;
}

/** The V8 flags the stack gives a function of the default memory (NODE_OPTIONS): phases run with them. */
const FUNCTION_V8_FLAGS = functionNodeOptions(DEFAULT_FUNCTION_MEMORY_MB).split(" ");

/** The middle value (of an odd count; the upper middle of an even one). */
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The phases run as the function does: this file bundled by esbuild as a Lambda zip is (no tsx
 * loader in the process), with the function's V8 flags, each phase in a process of its own.
 */
const PHASES_BUNDLE = join(__dirname, "..", "build", "bench", "phases.js");

function runPhase(which: string, path: string, extra: string[] = []): PhaseResult {
  if (!existsSync(PHASES_BUNDLE) || statSync(PHASES_BUNDLE).mtimeMs < bundledAt)
    bundleNodeProgram(__filename, PHASES_BUNDLE, { external: ["esbuild"] });
  const out = execFileSync(
    process.execPath,
    [...FUNCTION_V8_FLAGS, PHASES_BUNDLE, "--phase", which, "--file", path, ...extra],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** Bundled once per bench run (this run's sources). */
const bundledAt = Date.now();

async function mainBench() {
  const which = arg("phase");
  const given = arg("file");
  if (which) return phase(which, given!);
  if (process.argv.includes("--noisy")) {
    const noisy = await noisyBench(
      {
        ...NOISY_DEFAULTS,
        latencyMs: Number(arg("latency-ms") ?? NOISY_DEFAULTS.latencyMs),
        rounds: Number(arg("rounds") ?? NOISY_DEFAULTS.rounds),
      },
      console.log,
    );
    console.log(JSON.stringify(noisy));
    return;
  }
  const mb = Number(arg("mb") ?? 110);
  const format = arg("format") ?? "ndjson";
  if (format !== "ndjson" && format !== "parquet")
    throw new Error(`--format must be ndjson or parquet, got ${format}`);
  const generated = join(__dirname, "..", "build", "bench", `events-${mb}mb-v2.ndjson.gz`);
  let path = given ? resolve(given) : generated;
  if (!given && !existsSync(generated)) {
    console.log(`generating ${generated} (${mb} MB uncompressed)...`);
    await generate(generated, mb);
  }
  if (!given && format === "parquet") {
    const rowGroupMb = Number(arg("row-group-mb") ?? PARQUET_ROW_GROUP_MB);
    path = generated.replace(/\.ndjson\.gz$/, `-rg${rowGroupMb}.parquet`);
    if (!existsSync(path)) {
      console.log(`converting to ${path} (row groups of ${rowGroupMb} MiB of events)...`);
      await toParquet(generated, path, rowGroupMb);
    }
  }
  // Floor, path and the seeds' processor take turns, round by round: a noisy machine slows the
  // runs of a round alike, so the median of the per-round ratios holds where one floor (or seeds)
  // run against one path run did not.
  const pairs = Number(arg("pairs") ?? 3);
  const python = seedsPython(path);
  // With --redact or --exclude, the path with those rules runs in the same rounds.
  const shapingArgs = process.argv
    .slice(2)
    .flatMap((a, i, all) => (a === "--redact" || a === "--exclude" ? all.slice(i, i + 2) : []));
  shapingRules(shapingArgs); // a mistake stops here, before any round
  const runs: { fl: PhaseResult; en: PhaseResult; seeds?: number; shaped?: PhaseResult }[] = [];
  for (let i = 0; i < pairs; i++) {
    const fl = runPhase("floor", path);
    const en = runPhase("engine", path);
    const shaped = shapingArgs.length > 0 ? runPhase("engine-shaped", path, shapingArgs) : undefined;
    runs.push({ fl, en, ...(python && { seeds: seedsRun(path) }), ...(shaped && { shaped }) });
  }
  const ratios = runs.map((r) => r.fl.seconds / r.en.seconds);
  const middle = runs[ratios.indexOf(median(ratios))]!;
  const { fl, en } = middle;
  const rawMb = (isParquet(path) ? fl.bytes : await uncompressedBytes(path)) / 1_000_000;
  console.log(
    `object: ${path}, ${(statSync(path).size / 1e6).toFixed(1)} MB ${isParquet(path) ? "Parquet" : "gzipped"}, ${rawMb.toFixed(1)} MB of events`,
  );
  const minBatches = minimumBatches(en.events, en.batchBytes);
  const summary = {
    events: en.events,
    events_per_s: Math.round(en.events / en.seconds),
    mb_per_s: Number((rawMb / en.seconds).toFixed(1)),
    floor_mb_per_s: Number((rawMb / fl.seconds).toFixed(1)),
    ratio_to_floor: Number(median(ratios).toFixed(3)),
    ratio_to_floor_pairs: ratios.map((r) => Number(r.toFixed(3))),
    peak_rss_mb: Math.round(Math.max(...runs.map((r) => r.en.peakRssMb))),
    floor_peak_rss_mb: Math.round(Math.max(...runs.map((r) => r.fl.peakRssMb))),
    batches: en.batches,
    min_batches: minBatches,
    batches_over_min_pct: Number((((en.batches - minBatches) / Math.max(1, minBatches)) * 100).toFixed(2)),
    events_split: en.split,
    events_rejected: en.rejected,
    uncompressed_mb: Number(rawMb.toFixed(1)),
    v8_flags: FUNCTION_V8_FLAGS.join(" "),
  };
  console.log(
    `floor (${isParquet(path) ? "decode row groups" : "gunzip + split + JSON.parse"}): ${fl.events} events in ${fl.seconds.toFixed(2)} s, peak RSS ${Math.round(fl.peakRssMb)} MB`,
  );
  console.log(
    `engine (read, parse, filter, batch): ${en.events} events in ${en.seconds.toFixed(2)} s, peak RSS ${Math.round(en.peakRssMb)} MB`,
  );
  console.log(`batches: ${en.batches} (minimum possible ${minBatches})`);
  console.log(
    `floor/path pairs: ratios ${summary.ratio_to_floor_pairs.join(", ")}, median ${summary.ratio_to_floor}`,
  );
  // The seeds' processor (Python) on the same object, in the same rounds.
  if (python) {
    const seedsRatios = runs.map((r) => r.seeds! / r.en.seconds);
    const seedsMbPerS = rawMb / median(runs.map((r) => r.seeds!));
    Object.assign(summary, {
      seeds_mb_per_s: Number(seedsMbPerS.toFixed(1)),
      ratio_to_seeds: Number(median(seedsRatios).toFixed(2)),
      ratio_to_seeds_pairs: seedsRatios.map((r) => Number(r.toFixed(2))),
    });
    console.log(
      `seeds' processor (bench/seeds_processor.py, Python ${python}): ${seedsMbPerS.toFixed(1)} MB/s (median of ${pairs}); ` +
        `seeds/path ratios ${seedsRatios.map((r) => r.toFixed(2)).join(", ")}, median ${median(seedsRatios).toFixed(2)}`,
    );
  }
  if (shapingArgs.length > 0) {
    const shapedRatios = runs.map((r) => r.en.seconds / r.shaped!.seconds);
    const shaped = runs[shapedRatios.indexOf(median(shapedRatios))]!.shaped!;
    Object.assign(summary, {
      shaping: shapingArgs.join(" "),
      shaped_mb_per_s: Number((rawMb / shaped.seconds).toFixed(1)),
      shaped_ratio_to_plain: Number(median(shapedRatios).toFixed(3)),
      shaped_ratio_to_plain_pairs: shapedRatios.map((r) => Number(r.toFixed(3))),
      shaped_peak_rss_mb: Math.round(Math.max(...runs.map((r) => r.shaped!.peakRssMb))),
      shaped_events_delivered: shaped.events,
      shaped_events_filtered: shaped.filtered,
      shaped_redactions: shaped.redactions,
    });
    console.log(
      `path with ${shapingArgs.join(" ")}: ${(rawMb / shaped.seconds).toFixed(1)} MB/s, ${shaped.events} events delivered, ${shaped.filtered} filtered, ${shaped.redactions} redactions; ` +
        `shaped/plain throughput ${shapedRatios.map((r) => r.toFixed(2)).join(", ")}, median ${median(shapedRatios).toFixed(2)}; peak RSS ${Math.round(shaped.peakRssMb)} MB`,
    );
  }
  // PutLogEvents with a time on the wire: the next batch is read while one is in flight, so the
  // object takes about the calls' time, not the calls' time plus the reading.
  const putLatencyMs = Number(arg("put-latency-ms") ?? 30);
  const wire = runPhase("engine-wire", path, ["--put-latency-ms", String(putLatencyMs)]);
  const callsMs = en.batches * putLatencyMs;
  const wired = {
    put_latency_ms: putLatencyMs,
    seconds_with_put_latency: Number(wire.seconds.toFixed(2)),
    sequential_estimate_seconds: Number((en.seconds + callsMs / 1000).toFixed(2)),
  };
  console.log(
    `with ${putLatencyMs} ms per PutLogEvents: ${wired.seconds_with_put_latency} s; reading and calls one after the other would take ${wired.sequential_estimate_seconds} s (${en.seconds.toFixed(2)} s + ${en.batches} x ${putLatencyMs} ms)`,
  );
  Object.assign(summary, wired);
  const cold = coldStart();
  console.log(
    `cold start: Lambda bundle ${(cold.bundle_bytes / 1000).toFixed(0)} KB, handler import ${cold.handler_import_ms} ms (median of ${cold.handler_import_ms_runs.length} processes)`,
  );
  Object.assign(summary, cold);
  if (!process.argv.includes("--e2e")) {
    console.log(JSON.stringify(summary));
    return;
  }
  const options = {
    ...E2E_DEFAULTS,
    latencyMs: Number(arg("latency-ms") ?? E2E_DEFAULTS.latencyMs),
    tenants: Number(arg("tenants") ?? E2E_DEFAULTS.tenants),
    concurrency: Number(arg("concurrency") ?? E2E_DEFAULTS.concurrency),
  };
  if (process.argv.includes("--lambda-batches")) {
    for (const r of await lambdaBatchSweep(options, [1, 5, 10, 25, 50, 100]))
      console.log(
        `Lambda batch size ${r.batch_size}: ${r.invocations} invocations of ${r.median_invocation_ms} ms (median), ` +
          `${r.objects_per_s_per_instance} objects/s per instance, ${r.billed_seconds_per_1000_objects} s billed per 1,000 objects, ${r.failures} failures`,
      );
  }
  if (process.argv.includes("--sweep")) {
    for (const concurrency of [1, 4, 8, 16, 32, 64]) {
      const r = await e2eBench({ ...options, concurrency, sequentialObjects: 1 });
      console.log(
        `concurrency ${concurrency}: ${r.e2e_objects_per_s} objects/s, cpu ${r.cpu_utilisation}, ${r.aws_calls_per_object} calls/object`,
      );
    }
  }
  const e2e = await e2eBench(options);
  console.log(
    `end to end (${e2e.e2e_objects} objects, ${options.tenants} tenants x 5 clusters, ${options.latencyMs} ms per call, concurrency ${options.concurrency}): ` +
      `${e2e.e2e_objects_per_s} objects/s vs ${e2e.sequential_objects_per_s} one at a time (x${e2e.e2e_speedup}), cpu ${e2e.cpu_utilisation}, ` +
      `AssumeRole ${e2e.assume_role_calls} for ${e2e.distinct_roles} roles, ${e2e.aws_calls_per_object} AWS calls per object ${JSON.stringify(e2e.aws_calls)}, ` +
      `${(e2e.aws_calls_failed_share * 100).toFixed(2)}% failed ${JSON.stringify(e2e.aws_calls_failed)}`,
  );
  console.log(JSON.stringify({ ...summary, ...e2e }));
}

mainBench().catch((e) => {
  if (e instanceof BenchUsageError) {
    console.error(`bench: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  console.error(e);
  process.exitCode = 1;
});
