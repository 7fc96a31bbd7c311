import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import type { S3Config } from "../../../shared/delivery-config";
import type { LogObjectKey } from "../../admission/object-key";
import type { SessionRequest } from "../../ports";
import type { EventChunk } from "../../reading/log-records";
import { isParquetKey } from "../../reading/parquet-records";
import type { Shaper } from "../../shaping/shaper";
import { BatchedDestination, recordLine, type UnitBatcher, type Units } from "./batched";
import type { CheckpointTally } from "./checkpoint-tally";
import type { DeliveryRun, DestinationDeps } from "./destination";
import { deliveryMetadata, type S3Placement, s3Placement } from "./s3-copy";

/**
 * Compressed bytes of one written part: an object whose shaped records compress to more is
 * written in parts, so a delivery holds at most about two parts in memory whatever the object.
 */
export const PART_BYTES = 4 * 1024 * 1024;
/** Lines are compressed as they come, this many uncompressed bytes at a time. */
export const MEMBER_BYTES = 1024 * 1024;

/** Version of the rules that cut an object into lines and parts (see BATCHING_VERSION). */
export const S3_REWRITE_VERSION = "s3-1";

/** A part: gzip members (their concatenation is one gzip file), and the lines they hold. */
export interface Part {
  readonly members: Buffer[];
  /** Compressed bytes. */
  readonly bytes: number;
  /** Lines. */
  readonly units: number;
}

/**
 * Packs lines into parts, compressing every MEMBER_BYTES of lines into a gzip member as it goes
 * (a gzip file may be several members, which every reader inflates as one stream); a part closes
 * once its members reach `maxBytes`.
 */
export class PartBatcher implements UnitBatcher<Buffer, Part> {
  private lines: Buffer[] = [];
  private lineBytes = 0;
  private members: Buffer[] = [];
  private bytes = 0;
  private units = 0;

  constructor(
    private readonly maxBytes = PART_BYTES,
    private readonly memberBytes = MEMBER_BYTES,
  ) {}

  add(line: Buffer, size: number): Part | undefined {
    this.lines.push(line);
    this.lineBytes += size;
    this.units++;
    if (this.lineBytes < this.memberBytes) return undefined;
    this.compress();
    return this.bytes >= this.maxBytes ? this.close() : undefined;
  }

  flush(): Part | undefined {
    this.compress();
    return this.units === 0 ? undefined : this.close();
  }

  private compress(): void {
    if (this.lines.length === 0) return;
    const member = gzipSync(Buffer.concat(this.lines, this.lineBytes));
    this.members.push(member);
    this.bytes += member.length;
    this.lines = [];
    this.lineBytes = 0;
  }

  private close(): Part {
    const part = { members: this.members, bytes: this.bytes, units: this.units };
    this.members = [];
    this.bytes = 0;
    this.units = 0;
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
 * line) as gzipped NDJSON into the tenant's prefix, in parts of about PART_BYTES. Each part is
 * checkpointed once written; a part written again (a retry, a crash) replaces itself with the same
 * bytes, so nothing is duplicated. The object caps of reading apply, as for CloudWatch.
 */
export class S3RewriteDestination extends BatchedDestination<Buffer, Part> {
  readonly type = "s3" as const;
  readonly target: string;
  readonly sessionRequest: SessionRequest;
  protected readonly batchingVersion = S3_REWRITE_VERSION;
  private readonly placement: S3Placement;

  constructor(
    private readonly config: S3Config,
    key: LogObjectKey,
    region: string,
    deps: DestinationDeps,
    shaper: Shaper,
  ) {
    super(key, deps, shaper, true);
    this.placement = s3Placement(config, key, region);
    this.target = this.placement.target;
    this.sessionRequest = this.placement.sessionRequest;
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
  ): void {
    const line = recordLine(chunk, index, this.shaper, tally);
    if (line === undefined) return;
    out.units[0] = line;
    out.sizes[0] = line.length;
    out.count = 1;
  }

  protected async sendBatch(run: DeliveryRun, part: Part, number: number): Promise<number> {
    const body = Buffer.concat(part.members, part.bytes);
    const { ref } = run;
    await this.deps.call(
      () =>
        this.deps.objectWriter.putObject(run.session, {
          bucket: this.config.bucket_name,
          key: partKey(this.placement.key, number),
          body: Readable.from([body]),
          contentLength: body.length,
          contentType: "application/x-ndjson",
          expectedBucketOwner: this.placement.owner,
          metadata: deliveryMetadata(ref, this.key, this.deps.now(), { "logrelay-part": String(number) }),
        }),
      run.deadline,
    );
    return 0;
  }
}
