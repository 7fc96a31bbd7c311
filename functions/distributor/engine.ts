import type { CloudWatchConfig, DeliveryConfig, S3Config } from "../shared/delivery-config";
import { accountOfRoleArn } from "../shared/patterns";
import {
  isInAcceptWindow,
  type LogBatch,
  PUT_LOG_EVENTS_LIMITS,
  PutLogEventsBatcher,
  type PutLogEventsLimits,
  splitOversizeMessage,
} from "./batching";
import { classify, describeError, MalformedMessageError } from "./errors";
import { type LogEvent, newReadStats, type ReadStats, readLogEvents } from "./log-records";
import { applicationFilter, matchesApplication } from "./matching";
import { type ObjectRef, parseNotification } from "./notification";
import { type LogObjectKey, parseObjectKey } from "./object-key";
import { isParquetKey, readParquetEvents } from "./parquet-records";
import type {
  CloudWatchLogsApi,
  CloudWatchLogsFactory,
  CredentialBroker,
  DeliveryLedger,
  ObjectSource,
  ObjectWriter,
  PutLogEventsResult,
  Telemetry,
} from "./ports";
import { type RetryHooks, type RetryPolicy, withRetry } from "./retry";
import {
  cloudWatchSessionPolicy,
  customerObjectKey,
  logStreamName,
  s3SessionPolicy,
} from "./session-policies";
import type { CachedTenantConfigs } from "./tenant-configs";

export type DestinationStatus =
  | "delivered"
  | "already_delivered"
  | "skipped"
  | "failed_permanent"
  | "failed_transient";
export type OutcomeStatus = "delivered" | "skipped" | "failed_permanent" | "failed_transient";

export interface DestinationResult {
  readonly type: string;
  /** Where it goes: `cloudwatch:<region>:<account>:<log group>` or `s3://<bucket>/<prefix>`. */
  readonly target: string;
  readonly status: DestinationStatus;
  readonly reason?: string;
  readonly eventsDelivered: number;
  readonly eventsRejected: number;
  readonly eventsSplit: number;
  readonly badLines: number;
  readonly bytes: number;
  readonly batches: number;
}

export interface ObjectResult {
  readonly bucket: string;
  readonly key: string;
  readonly tenantId?: string;
  readonly status: OutcomeStatus;
  readonly reason?: string;
  readonly destinations: DestinationResult[];
  /** From object creation to the end of delivery. */
  readonly latencyMs: number;
}

export interface MessageResult {
  readonly status: OutcomeStatus;
  readonly reason?: string;
  readonly objects: ObjectResult[];
  readonly ignored: string[];
}

export interface EngineSettings {
  /** The processor's region: default target_region. */
  readonly region: string;
  readonly retry: RetryPolicy;
  readonly limits?: PutLogEventsLimits;
  readonly retryHooks?: RetryHooks;
  /** Days a ledger entry is kept: longer than the queue's retention, so every retry finds it. */
  readonly ledgerTtlDays?: number;
}

export interface EngineDeps {
  readonly objects: ObjectSource;
  readonly configs: CachedTenantConfigs;
  readonly credentials: CredentialBroker;
  readonly cloudWatchLogs: CloudWatchLogsFactory;
  readonly objectWriter: ObjectWriter;
  readonly ledger: DeliveryLedger;
  readonly telemetry: Telemetry;
  readonly now?: () => number;
}

const empty = { eventsDelivered: 0, eventsRejected: 0, eventsSplit: 0, badLines: 0, bytes: 0, batches: 0 };

/** Worst status wins: a transient failure means "retry the message", then permanent, delivered, skipped. */
export function combineStatus(statuses: Iterable<DestinationStatus | OutcomeStatus>): OutcomeStatus {
  let result: OutcomeStatus = "skipped";
  for (const s of statuses) {
    if (s === "failed_transient") return "failed_transient";
    if (s === "failed_permanent") result = "failed_permanent";
    else if ((s === "delivered" || s === "already_delivered") && result === "skipped") result = "delivered";
  }
  return result;
}

/**
 * The delivery engine: from one SQS message (an S3 notification) to every destination of the
 * object's tenant. Never throws for bad input: every outcome comes back as a result and is
 * logged with metrics; callers turn "failed_transient" into a retry.
 */
export class DeliveryEngine {
  private readonly now: () => number;
  private readonly limits: PutLogEventsLimits;

  constructor(
    private readonly deps: EngineDeps,
    private readonly settings: EngineSettings,
  ) {
    this.now = deps.now ?? Date.now;
    this.limits = settings.limits ?? PUT_LOG_EVENTS_LIMITS;
  }

  async processMessage(body: string, context: Record<string, string> = {}): Promise<MessageResult> {
    let parsed: ReturnType<typeof parseNotification>;
    try {
      parsed = parseNotification(body);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      // Kept whole in the log: a notification holds no customer payload, and this is its only copy.
      this.deps.telemetry.log("error", "malformed message acknowledged without delivery", {
        ...context,
        outcome: "failed_permanent",
        reason: error.message,
        body: body.length > 262_144 ? `${body.slice(0, 262_144)}...(truncated)` : body,
      });
      this.deps.telemetry.metrics({}, [{ name: "MalformedMessages", value: 1, unit: "Count" }]);
      this.permanentFailureMetric();
      return { status: "failed_permanent", reason: error.message, objects: [], ignored: [] };
    }
    if (parsed.ignored.length > 0) {
      this.deps.telemetry.log("info", "notification records ignored", {
        ...context,
        ignored: parsed.ignored,
      });
    }
    const objects: ObjectResult[] = [];
    for (const ref of parsed.objects) objects.push(await this.deliverObject(ref, context));
    return { status: combineStatus(objects.map((o) => o.status)), objects, ignored: parsed.ignored };
  }

  async deliverObject(ref: ObjectRef, context: Record<string, string> = {}): Promise<ObjectResult> {
    const result = await this.deliverObjectUnlogged(ref);
    this.record(result, context);
    return result;
  }

  private async deliverObjectUnlogged(ref: ObjectRef): Promise<ObjectResult> {
    const base = { bucket: ref.bucket, key: ref.key };
    const finish = (r: Omit<ObjectResult, "latencyMs" | "bucket" | "key">): ObjectResult => ({
      ...base,
      ...r,
      latencyMs: Math.max(0, this.now() - ref.eventTime.getTime()),
    });
    let key: LogObjectKey;
    try {
      key = parseObjectKey(ref.key);
    } catch (error) {
      return finish({ status: "failed_permanent", reason: describeError(error), destinations: [] });
    }
    const tenantId = key.tenantId;
    let configs: Awaited<ReturnType<CachedTenantConfigs["forTenant"]>>;
    try {
      configs = await this.deps.configs.forTenant(tenantId);
    } catch (error) {
      return finish({
        tenantId,
        status: classify(error) === "permanent" ? "failed_permanent" : "failed_transient",
        reason: `reading delivery configs: ${describeError(error)}`,
        destinations: [],
      });
    }
    if (configs.valid.length === 0 && configs.invalid.length === 0) {
      return finish({
        tenantId,
        status: "skipped",
        reason: "tenant has no delivery config",
        destinations: [],
      });
    }
    const invalid: DestinationResult[] = configs.invalid.map((c) => ({
      ...empty,
      type: c.type,
      target: "(invalid config)",
      status: "failed_permanent",
      reason: `InvalidConfigError: ${c.problems.join("; ")}`,
    }));
    let version: Promise<string> | undefined;
    const objectVersion = () => {
      version ??= this.objectVersion(ref);
      return version;
    };
    const tasks = configs.valid.map((config) => this.deliverTo(config, ref, key, objectVersion));
    const destinations = [...invalid, ...(await Promise.all(tasks))];
    const reasons = destinations
      .filter((d) => d.status !== "delivered" && d.reason)
      .map((d) => `${d.type}: ${d.reason}`);
    return {
      ...finish({ tenantId, status: combineStatus(destinations.map((d) => d.status)), destinations }),
      ...(reasons.length > 0 && { reason: reasons.join(" | ") }),
    };
  }

  /** One destination, isolated: whatever happens here is this destination's result only. */
  private async deliverTo(
    config: DeliveryConfig,
    ref: ObjectRef,
    key: LogObjectKey,
    objectVersion: () => Promise<string>,
  ): Promise<DestinationResult> {
    const region = config.target_region ?? this.settings.region;
    const target =
      config.type === "cloudwatch"
        ? `cloudwatch:${region}:${accountOfRoleArn(config.log_distribution_role_arn)}:${config.log_group_name}`
        : `s3://${config.bucket_name}/${config.bucket_prefix}`;
    const skipped = (reason: string): DestinationResult => ({
      ...empty,
      type: config.type,
      target,
      status: "skipped",
      reason,
    });
    if (!config.enabled) return skipped("delivery config is disabled");
    const filter = applicationFilter(config);
    if (filter.unknownGroups.length > 0) {
      this.deps.telemetry.log("warn", "delivery config names unknown application groups", {
        tenant_id: key.tenantId,
        type: config.type,
        unknown_groups: filter.unknownGroups,
      });
    }
    if (!matchesApplication(filter, key.application))
      return skipped(`application ${key.application} not selected`);

    let ledgerId: string | undefined;
    try {
      ledgerId = this.deps.ledger.durable
        ? `${ref.bucket}/${ref.key}#${await objectVersion()}|${target}`
        : undefined;
      if (ledgerId && (await this.deps.ledger.has(ledgerId))) {
        return { ...empty, type: config.type, target, status: "already_delivered" };
      }
    } catch (error) {
      return this.failed(config.type, target, error, empty);
    }
    const progress = { ...empty };
    try {
      if (config.type === "cloudwatch") await this.toCloudWatch(config, region, ref, key, progress);
      else await this.toS3(config, region, ref, key, progress);
    } catch (error) {
      return this.failed(config.type, target, error, progress);
    }
    try {
      if (ledgerId) {
        await this.deps.ledger.record(ledgerId, {
          delivered_at: new Date(this.now()).toISOString(),
          events: progress.eventsDelivered,
          expires_after_days: this.settings.ledgerTtlDays ?? 15,
        });
      }
    } catch (error) {
      // Delivered, but a retry could deliver again: say so, do not turn success into failure.
      this.deps.telemetry.log("warn", "delivered but ledger write failed; a retry may duplicate", {
        tenant_id: key.tenantId,
        target,
        error: describeError(error),
      });
    }
    return { ...progress, type: config.type, target, status: "delivered" };
  }

  /**
   * The same object version must get the same ledger id whether it arrives by S3 notification,
   * DLQ redrive, replay or a manual run: version id, else ETag (quotes stripped), else a HEAD.
   */
  private async objectVersion(ref: ObjectRef): Promise<string> {
    const known = ref.versionId
      ? `v:${ref.versionId}`
      : ref.eTag
        ? `e:${ref.eTag.replace(/"/g, "")}`
        : undefined;
    if (known) return known;
    const id = await this.retry(() => this.deps.objects.identify(ref.bucket, ref.key));
    if (id.versionId) return `v:${id.versionId}`;
    if (id.eTag) return `e:${id.eTag.replace(/"/g, "")}`;
    throw new Error(`s3://${ref.bucket}/${ref.key} has neither version id nor ETag`);
  }

  private failed(type: string, target: string, error: unknown, progress: typeof empty): DestinationResult {
    const status = classify(error) === "permanent" ? "failed_permanent" : "failed_transient";
    return { ...progress, type, target, status, reason: describeError(error) };
  }

  private retry<T>(operation: () => Promise<T>): Promise<T> {
    return withRetry(operation, this.settings.retry, this.settings.retryHooks);
  }

  private async toCloudWatch(
    config: CloudWatchConfig,
    region: string,
    ref: ObjectRef,
    key: LogObjectKey,
    progress: { -readonly [K in keyof typeof empty]: number },
  ): Promise<void> {
    const accountId = accountOfRoleArn(config.log_distribution_role_arn);
    const session = await this.deps.credentials.destinationSession({
      roleArn: config.log_distribution_role_arn,
      externalId: config.external_id,
      tenantId: key.tenantId,
      clusterId: key.clusterId,
      region,
      sessionPolicy: cloudWatchSessionPolicy(region, accountId, config.log_group_name),
    });
    const logs = this.deps.cloudWatchLogs(session);
    const group = config.log_group_name;
    const stream = logStreamName(key, ref.eventTime);
    const now = this.now();
    const maxMessageBytes = this.limits.maxEventBytes - this.limits.perEventOverheadBytes;
    const batcher = new PutLogEventsBatcher(this.limits);
    const stats = newReadStats();
    const send = async (batch: LogBatch) => {
      const result = await this.retry(() => putCreatingStream(logs, group, stream, batch));
      const rejected = rejectedCount(result, batch.events.length);
      progress.batches++;
      progress.eventsRejected += rejected;
      progress.eventsDelivered += batch.events.length - rejected;
      progress.bytes += batch.bytes;
    };
    try {
      for await (const events of await this.readEvents(ref, stats)) {
        for (const event of events) {
          if (!isInAcceptWindow(event.timestamp, now)) {
            progress.eventsRejected++;
            continue;
          }
          const bytes = Buffer.byteLength(event.message, "utf8");
          if (bytes <= maxMessageBytes) {
            const full = batcher.add(event, bytes + this.limits.perEventOverheadBytes);
            if (full) await send(full);
            continue;
          }
          progress.eventsSplit++;
          for (const message of splitOversizeMessage(event.message, maxMessageBytes)) {
            const full = batcher.add({ timestamp: event.timestamp, message });
            if (full) await send(full);
          }
        }
      }
      const last = batcher.flush();
      if (last) await send(last);
    } finally {
      progress.badLines = stats.badLines;
      if (stats.badLines > 0) {
        this.deps.telemetry.log("warn", "bad lines skipped", {
          tenant_id: key.tenantId,
          key: ref.key,
          bad_lines: stats.badLines,
          samples: stats.badSamples,
        });
      }
    }
  }

  /**
   * The object's events, streamed: gzipped or plain NDJSON, or Parquet (read by byte ranges, each
   * read retried like any S3 call). Records without a usable time get the object's time.
   */
  private async readEvents(ref: ObjectRef, stats: ReadStats): Promise<AsyncIterable<LogEvent[]>> {
    const { objects } = this.deps;
    if (isParquetKey(ref.key)) {
      const object = await this.retry(() => objects.ranges(ref.bucket, ref.key, ref.versionId));
      const fallbackTimestampMs = (object.lastModified ?? ref.eventTime).getTime();
      const ranges = {
        ...object,
        read: (start: number, end: number) => this.retry(() => object.read(start, end)),
      };
      return readParquetEvents(ranges, { fallbackTimestampMs }, stats);
    }
    const object = await this.retry(() => objects.open(ref.bucket, ref.key, ref.versionId));
    const fallbackTimestampMs = (object.lastModified ?? ref.eventTime).getTime();
    return readLogEvents(object.body, { fallbackTimestampMs }, stats);
  }

  private async toS3(
    config: S3Config,
    region: string,
    ref: ObjectRef,
    key: LogObjectKey,
    progress: { -readonly [K in keyof typeof empty]: number },
  ): Promise<void> {
    const destinationKey = customerObjectKey(config.bucket_prefix, key);
    const session = await this.deps.credentials.destinationSession({
      roleArn: config.log_distribution_role_arn,
      externalId: config.external_id,
      tenantId: key.tenantId,
      clusterId: key.clusterId,
      region,
      sessionPolicy: s3SessionPolicy(config.bucket_name, `${config.bucket_prefix}${key.tenantId}/`),
    });
    // A consumed body cannot be replayed: each attempt reopens the source.
    await this.retry(async () => {
      const object = await this.deps.objects.open(ref.bucket, ref.key, ref.versionId);
      await this.deps.objectWriter.putObject(session, {
        bucket: config.bucket_name,
        key: destinationKey,
        body: object.body,
        ...(object.contentLength !== undefined && { contentLength: object.contentLength }),
        ...(object.contentType !== undefined && { contentType: object.contentType }),
        expectedBucketOwner: accountOfRoleArn(config.log_distribution_role_arn),
        metadata: {
          "logrelay-source-bucket": ref.bucket,
          "logrelay-source-key": ref.key,
          ...(ref.versionId && { "logrelay-source-version": ref.versionId }),
          "logrelay-tenant-id": key.tenantId,
          "logrelay-cluster-id": key.clusterId,
          "logrelay-delivered-at": new Date(this.now()).toISOString(),
        },
      });
      progress.bytes = object.contentLength ?? ref.size ?? 0;
    });
  }

  private permanentFailureMetric(): void {
    this.deps.telemetry.metrics({}, [{ name: "PermanentFailures", value: 1, unit: "Count" }]);
  }

  /** One structured log line per object, metrics per tenant and destination type. */
  private record(result: ObjectResult, context: Record<string, string>): void {
    const level = result.status.startsWith("failed")
      ? "error"
      : result.status === "skipped"
        ? "warn"
        : "info";
    this.deps.telemetry.log(level, `object ${result.status}`, {
      ...context,
      tenant_id: result.tenantId,
      bucket: result.bucket,
      key: result.key,
      outcome: result.status,
      reason: result.reason,
      latency_ms: result.latencyMs,
      destinations: result.destinations.map((d) => ({
        type: d.type,
        target: d.target,
        status: d.status,
        reason: d.reason,
        events_delivered: d.eventsDelivered,
        events_rejected: d.eventsRejected,
        events_split: d.eventsSplit,
        bad_lines: d.badLines,
        bytes: d.bytes,
        batches: d.batches,
      })),
    });
    const tenant = result.tenantId ?? "(unknown)";
    if (result.destinations.length === 0) {
      const name = result.status === "skipped" ? "ObjectsSkipped" : "ObjectFailures";
      this.deps.telemetry.metrics({ tenant_id: tenant }, [{ name, value: 1, unit: "Count" }]);
      if (result.status === "failed_permanent") this.permanentFailureMetric();
      return;
    }
    for (const d of result.destinations) {
      const failed = d.status === "failed_permanent" || d.status === "failed_transient";
      this.deps.telemetry.metrics({ tenant_id: tenant, destination: d.type }, [
        { name: "EventsDelivered", value: d.eventsDelivered, unit: "Count" },
        { name: "EventsRejected", value: d.eventsRejected, unit: "Count" },
        { name: "BytesDelivered", value: d.status === "delivered" ? d.bytes : 0, unit: "Bytes" },
        { name: "DeliveryFailures", value: failed ? 1 : 0, unit: "Count" },
        ...(d.status === "delivered"
          ? [{ name: "DeliveryLatency", value: result.latencyMs, unit: "Milliseconds" as const }]
          : []),
      ]);
      if (d.status === "failed_permanent") this.permanentFailureMetric();
    }
  }
}

/** PutLogEvents, creating the group and stream on first use (races with other workers tolerated). */
async function putCreatingStream(
  logs: CloudWatchLogsApi,
  group: string,
  stream: string,
  batch: LogBatch,
): Promise<PutLogEventsResult> {
  try {
    return await logs.putLogEvents(group, stream, batch.events);
  } catch (error) {
    if ((error as { name?: unknown }).name !== "ResourceNotFoundException") throw error;
    await logs.createLogGroup(group);
    await logs.createLogStream(group, stream);
    return logs.putLogEvents(group, stream, batch.events);
  }
}

/** Events CloudWatch refused in a batch: [0..tooOld/expired end] and [tooNew start..]. */
export function rejectedCount(result: PutLogEventsResult, batchSize: number): number {
  const oldEnd = Math.max(result.tooOldEndIndex ?? -1, result.expiredEndIndex ?? -1);
  const newStart = result.tooNewStartIndex ?? batchSize;
  const front = Math.min(oldEnd + 1, batchSize);
  const back = Math.max(0, batchSize - Math.max(newStart, front));
  return front + back;
}
