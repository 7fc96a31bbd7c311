import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import type { S3Config } from "../../../shared/delivery-config";
import { accountOfRoleArn } from "../../../shared/patterns";
import type { LogObjectKey } from "../../admission/object-key";
import type { SessionRequest } from "../../ports";
import type { EventChunk } from "../../reading/log-records";
import { isParquetKey } from "../../reading/parquet-records";
import { Shaper } from "../../shaping/shaper";
import { BatchedDestination, type UnitBatcher, type Units } from "./batched";
import type { CheckpointTally } from "./checkpoint-tally";
import { type DeliveryRun, type DestinationDeps, sessionRequestFor, targetOf } from "./destination";
import { customerObjectKey, s3SessionPolicy } from "./s3-copy";

/** Uncompressed bytes of one written part: an object larger than this is written in parts. */
export const PART_BYTES = 32 * 1024 * 1024;

/** Version of the rules that cut an object into lines and parts (see BATCHING_VERSION). */
export const S3_REWRITE_VERSION = "s3-1";

export interface Part {
  readonly events: Buffer[];
  readonly bytes: number;
}

/** Packs lines into parts of at most PART_BYTES (a longer line is a part of its own). */
export class PartBatcher implements UnitBatcher<Buffer, Part> {
  private lines: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes = PART_BYTES) {}

  add(line: Buffer, size: number): Part | undefined {
    const closed = this.lines.length > 0 && this.bytes + size > this.maxBytes ? this.flush() : undefined;
    this.lines.push(line);
    this.bytes += size;
    return closed;
  }

  flush(): Part | undefined {
    if (this.lines.length === 0) return undefined;
    const part = { events: this.lines, bytes: this.bytes };
    this.lines = [];
    this.bytes = 0;
    return part;
  }
}

/**
 * Where part `n` (from 1) of a rewritten object lands: the copy's key for the first part of a
 * gzipped object, `<name>.part-000n.<extensions>` for the next; a Parquet object becomes
 * gzipped NDJSON, `<name>[.part-000n].json.gz`.
 */
export function partKey(copyKey: string, part: number): string {
  const slash = copyKey.lastIndexOf("/") + 1;
  const dir = copyKey.slice(0, slash);
  let file = copyKey.slice(slash);
  if (isParquetKey(file)) file = `${file.slice(0, -".parquet".length)}.json.gz`;
  else if (!file.endsWith(".gz")) file = `${file}.gz`;
  if (part === 1) return dir + file;
  const dot = file.indexOf(".", 1);
  const suffix = `.part-${String(part).padStart(4, "0")}`;
  return dot < 0 ? `${dir}${file}${suffix}` : `${dir}${file.slice(0, dot)}${suffix}${file.slice(dot)}`;
}

/**
 * The S3 destination of a config with filter or redaction rules: instead of copying the staged
 * object, writes what the rules let through (each event's staged record, redacted, as one JSON
 * line) as gzipped NDJSON into the tenant's prefix, in parts of at most PART_BYTES. Each part is
 * checkpointed once written; a part written again (a retry, a crash) replaces itself with the same
 * bytes, so nothing is duplicated. The object caps of reading apply, as for CloudWatch.
 */
export class S3RewriteDestination extends BatchedDestination<Buffer, Part> {
  readonly type = "s3" as const;
  readonly target: string;
  readonly sessionRequest: SessionRequest;
  protected readonly batchingVersion = S3_REWRITE_VERSION;
  private readonly copyKey: string;
  private readonly owner: string;

  constructor(
    private readonly config: S3Config,
    key: LogObjectKey,
    region: string,
    deps: DestinationDeps,
  ) {
    super(key, deps, Shaper.of(config), true);
    this.target = targetOf(config, region);
    this.copyKey = customerObjectKey(config.bucket_prefix, key);
    this.owner = accountOfRoleArn(config.log_distribution_role_arn);
    this.sessionRequest = sessionRequestFor(
      config,
      key,
      region,
      s3SessionPolicy(config.bucket_name, `${config.bucket_prefix}${key.tenantId}/`, region),
    );
  }

  protected newBatcher(): PartBatcher {
    return new PartBatcher();
  }

  /** The event's record, redacted, as one JSON line; none when it is too deep to write. */
  protected unitsOf(
    chunk: EventChunk,
    index: number,
    _window: number,
    tally: CheckpointTally,
    out: Units<Buffer>,
  ) {
    const event = chunk[index]!;
    const record = event.record ?? {
      timestamp: new Date(event.timestamp).toISOString(),
      message: event.message,
    };
    this.shaper?.redactRecord(record, tally.redactions());
    let line: Buffer;
    try {
      line = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
    } catch {
      tally.rejected();
      return;
    }
    out.units[0] = line;
    out.sizes[0] = line.length;
    out.count = 1;
  }

  protected async sendBatch(run: DeliveryRun, part: Part, number: number): Promise<number> {
    const body = gzipSync(Buffer.concat(part.events, part.bytes));
    const { ref } = run;
    await this.deps.call(
      () =>
        this.deps.objectWriter.putObject(run.session, {
          bucket: this.config.bucket_name,
          key: partKey(this.copyKey, number),
          body: Readable.from([body]),
          contentLength: body.length,
          contentType: "application/x-ndjson",
          expectedBucketOwner: this.owner,
          metadata: {
            "logrelay-source-bucket": ref.bucket,
            "logrelay-source-key": ref.key,
            ...(ref.versionId && { "logrelay-source-version": ref.versionId }),
            "logrelay-tenant-id": this.key.tenantId,
            "logrelay-cluster-id": this.key.clusterId,
            "logrelay-part": String(number),
            "logrelay-delivered-at": new Date(this.deps.now()).toISOString(),
          },
        }),
      run.deadline,
    );
    return 0;
  }
}
