/**
 * What the delivery engine needs from the outside world, and nothing about the AWS SDK.
 * Adapters in ./adapters implement these with real clients; tests use in-memory fakes.
 */
import type { LogEvent } from "./log-records";

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Credentials of the customer's role, scoped to one destination, in the destination's region. */
export interface DestinationSession {
  readonly credentials: AwsCredentials;
  readonly region: string;
  /** Account that owns the role (and so must own the destination). */
  readonly accountId: string;
  /** Stable identity of the session, for client caches. */
  readonly cacheKey: string;
}

export interface SessionRequest {
  readonly roleArn: string;
  readonly externalId: string;
  readonly tenantId: string;
  readonly clusterId: string;
  readonly region: string;
  /** IAM session policy narrowing the session to this one destination. */
  readonly sessionPolicy: string;
}

/** Assumes the central role, then the customer's role (ExternalId, session tags); caches sessions. */
export interface CredentialBroker {
  destinationSession(request: SessionRequest): Promise<DestinationSession>;
}

export interface StagedObject {
  readonly body: AsyncIterable<Uint8Array>;
  readonly contentLength?: number;
  readonly lastModified?: Date;
  readonly contentType?: string;
}

/** What identifies one version of an object: the version id where versioning is on, else the ETag. */
export interface ObjectIdentity {
  readonly versionId?: string;
  readonly eTag?: string;
}

/** Random access to one object (Parquet is read footer first, one row group at a time). */
export interface ObjectRanges {
  readonly size: number;
  readonly lastModified?: Date;
  /** Bytes [start, end). */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** Reads staged objects from the central bucket with the processor's own credentials. */
export interface ObjectSource {
  open(bucket: string, key: string, versionId?: string): Promise<StagedObject>;
  /** Size and time of the object, and reads of byte ranges of that same version. */
  ranges(bucket: string, key: string, versionId?: string): Promise<ObjectRanges>;
  /** Identity of the current object, for notifications that carry none (manual runs, replays). */
  identify(bucket: string, key: string): Promise<ObjectIdentity>;
}

/** Raw delivery-config items of one tenant, as stored (validated by the engine). */
export interface ConfigSource {
  itemsFor(tenantId: string): Promise<Record<string, unknown>[]>;
}

export interface PutLogEventsResult {
  /** Indexes CloudWatch refused (rejectedLogEventsInfo), as counts. */
  readonly tooNewStartIndex?: number;
  readonly tooOldEndIndex?: number;
  readonly expiredEndIndex?: number;
}

export interface CloudWatchLogsApi {
  putLogEvents(group: string, stream: string, events: LogEvent[]): Promise<PutLogEventsResult>;
  /** Must tolerate "already exists". */
  createLogGroup(group: string): Promise<void>;
  /** Must tolerate "already exists". */
  createLogStream(group: string, stream: string): Promise<void>;
}

export type CloudWatchLogsFactory = (session: DestinationSession) => CloudWatchLogsApi;

export interface PutObjectRequest {
  readonly bucket: string;
  readonly key: string;
  readonly body: AsyncIterable<Uint8Array>;
  readonly contentLength?: number;
  readonly contentType?: string;
  /** The request fails unless the bucket belongs to this account. */
  readonly expectedBucketOwner: string;
  readonly metadata: Record<string, string>;
}

/** Writes into a customer's bucket with the destination session. */
export interface ObjectWriter {
  putObject(session: DestinationSession, request: PutObjectRequest): Promise<void>;
}

/** Remembers which (object version, destination) pairs were delivered, so retries skip them. */
export interface DeliveryLedger {
  readonly durable: boolean;
  has(id: string): Promise<boolean>;
  record(id: string, detail: Record<string, string | number>): Promise<void>;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface MetricDatum {
  readonly name: string;
  readonly value: number;
  readonly unit: "Count" | "Bytes" | "Milliseconds";
}

/** Structured logs and metrics (CloudWatch embedded metric format in production). */
export interface Telemetry {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /** Metrics for one set of dimensions, e.g. { tenant_id, destination }; {} for service-wide. */
  metrics(dimensions: Record<string, string>, data: MetricDatum[]): void;
}
