/**
 * What the delivery engine needs from the outside world, and nothing about the AWS SDK.
 * Adapters in ./adapters implement these with real clients; tests use in-memory fakes. The domain
 * model these ports carry lives in ./model.
 */

import type { DestinationSession } from "../shared/credentials";
import type { DeliveryCounts } from "./model/counts";
import type { Checkpoint, Claim, ObjectIdentity } from "./model/ledger";
import type {
  DestinationRef,
  DestinationState,
  LostEntry,
  ParkedDelivery,
  ParkedEntry,
} from "./model/parked";
import type { Pulse } from "./model/pulse";
import type { LogEvent } from "./reading/log-records";

export type {
  AwsCredentials,
  CredentialBroker,
  DestinationSession,
  SessionRequest,
} from "../shared/credentials";

export interface StagedObject {
  readonly body: AsyncIterable<Uint8Array>;
  readonly contentLength?: number;
  readonly lastModified?: Date;
  readonly contentType?: string;
}

/** Random access to one object (Parquet is read footer first, one row group at a time). */
export interface ObjectRanges {
  readonly size: number;
  readonly lastModified?: Date;
  /** Bytes [start, end). */
  read(start: number, end: number): Promise<Uint8Array>;
}

/**
 * Reads staged objects from the central bucket with the distributor's own credentials. Every read
 * of one delivery names the same version (`pin`), so a reopened read sees the same bytes. A
 * missing object throws ObjectNotFoundError.
 */
export interface ObjectSource {
  open(bucket: string, key: string, pin?: ObjectIdentity): Promise<StagedObject>;
  /** Size and time of the object, and reads of byte ranges of that same version. */
  ranges(bucket: string, key: string, pin?: ObjectIdentity): Promise<ObjectRanges>;
  /** Identity of the current object, for notifications that carry none (manual runs, replays). */
  identify(bucket: string, key: string): Promise<ObjectIdentity>;
}

/** How long the staging bucket keeps objects: how long a parked delivery can wait. */
export interface StagingExpiry {
  /** Days after which the bucket's lifecycle expires objects; undefined when it does not say. */
  expiryDays(bucket: string): Promise<number | undefined>;
}

/** A tenant's registration, as stored (validated by the cache), or undefined when there is none. */
export interface RegistrySource {
  registrationOf(tenantId: string): Promise<Record<string, unknown> | undefined>;
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

/** How a log group logrelay creates is set up (a group that already exists is left as it is). */
export interface LogGroupSettings {
  readonly retentionDays: number;
  /** The customer's KMS key for the group. */
  readonly kmsKeyArn?: string;
  readonly tags: Record<string, string>;
}

export interface CloudWatchLogsApi {
  /**
   * Puts one batch; the group and stream are created when missing (the adapter remembers what it
   * created, so a known stream costs one call), a new group with `group settings`. Throws
   * DestinationDeniedError when refused.
   */
  putLogEvents(
    group: string,
    stream: string,
    events: LogEvent[],
    settings: LogGroupSettings,
  ): Promise<PutLogEventsResult>;
}

export type CloudWatchLogsFactory = (session: DestinationSession) => CloudWatchLogsApi;

/** What Firehose refused in one PutRecordBatch: the records' indexes and error codes. */
export interface PutRecordBatchResult {
  readonly failed: readonly { readonly index: number; readonly code: string; readonly message: string }[];
}

export interface FirehoseApi {
  /**
   * Puts one batch of records (each already newline-terminated) into a stream. Refusals of the
   * whole call (role, stream policy, KMS, stream gone) become DestinationDeniedError; records
   * refused one by one come back in the result.
   */
  putRecordBatch(streamName: string, records: readonly Uint8Array[]): Promise<PutRecordBatchResult>;
}

export type FirehoseFactory = (session: DestinationSession) => FirehoseApi;

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

/**
 * Claims and checkpoints per (object version, destination). A claim is a lease: a conditional
 * write that succeeds when nobody holds a live lease and the destination is not complete; only the
 * owner may checkpoint, renew or complete (else ClaimLostError). An expired lease (crashed owner)
 * can be taken over; the new owner gets the last checkpoint.
 */
export interface DeliveryLedger {
  readonly durable: boolean;
  /** With `takeParked`, a parked delivery is claimed too (the retry of parked deliveries). */
  claim(id: string, owner: string, leaseMs: number, options?: { takeParked?: boolean }): Promise<Claim>;
  /** The owner sets the delivery aside until its destination works again (the checkpoint stays). */
  park(id: string, owner: string, parked: ParkedDelivery): Promise<void>;
  /** The owner records a parked delivery as lost (`reason`: its staged object is gone). */
  lose(id: string, owner: string, lost: ParkedDelivery): Promise<void>;
  renew(id: string, owner: string, leaseMs: number): Promise<void>;
  checkpoint(id: string, owner: string, checkpoint: Checkpoint, leaseMs: number): Promise<void>;
  complete(id: string, owner: string, counts: DeliveryCounts): Promise<void>;
  /** Gives the lease up (the checkpoint stays), so the next attempt need not wait for it to expire. */
  release(id: string, owner: string): Promise<void>;
}

/**
 * The parked deliveries and each destination's breaker, kept in the delivery ledger's table (a
 * sparse index orders each destination's parked objects by time).
 */
export interface ParkingStore {
  destination(ref: DestinationRef): Promise<DestinationState | undefined>;
  /** Every destination that has parked something (and not yet aged out of the ledger). */
  destinations(): Promise<DestinationState[]>;
  /** A destination's parked deliveries, oldest first. */
  parked(ref: DestinationRef, limit?: number): Promise<ParkedEntry[]>;
  lost(ref: DestinationRef): Promise<LostEntry[]>;
  /**
   * Records a park. `counted` (a delivery that failed, not one parked by an open breaker) adds one
   * to the streak and opens the breaker at `threshold`; `opened` is true only for the call that did.
   */
  recordPark(
    ref: DestinationRef,
    reason: string,
    counted: { threshold: number } | undefined,
  ): Promise<{ state: DestinationState; opened: boolean }>;
  /** A delivery worked: the streak starts again (a closed breaker stays closed). */
  recordSuccess(ref: DestinationRef): Promise<void>;
  recordProbe(ref: DestinationRef, probe: { ok: boolean; detail: string }): Promise<void>;
  /** Closes the breaker and ends the episode; true when this call closed an open breaker. */
  close(ref: DestinationRef): Promise<boolean>;
}

/** Each cluster's pulse, kept from the heartbeats delivered for it (in the delivery ledger's table). */
export interface PulseStore {
  get(clusterId: string): Promise<Pulse | undefined>;
  /** Writes `pulse` unless another writer moved the cluster's record past `readVersion`: false then. */
  put(pulse: Pulse, readVersion: number | undefined): Promise<boolean>;
  /** Every cluster with a pulse. */
  all(): Promise<Pulse[]>;
}

/** Tells people (the alarm topic) about a destination's state change: once per change. */
export interface Notifier {
  notify(subject: string, message: string, attributes: Record<string, string>): Promise<void>;
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

export interface QueueMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly receiveCount: number;
}

/** The SQS operations the long-polling worker needs. */
export interface QueuePort {
  receive(options: {
    maxMessages: number;
    waitSeconds: number;
    visibilitySeconds: number;
    signal: AbortSignal;
  }): Promise<QueueMessage[]>;
  delete(receiptHandle: string): Promise<void>;
  extendVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /** Sets many messages' visibility (deferral); returns the receipt handles that failed. */
  setVisibility(entries: readonly { receiptHandle: string; seconds: number }[]): Promise<string[]>;
  /** The queue's approximate message counts (SQS attributes; they lag a little). */
  depth(): Promise<QueueDepth>;
}

export interface QueueDepth {
  /** Visible: waiting to be received. */
  readonly visible: number;
  /** Received and not yet deleted (by any consumer), or deferred. */
  readonly inFlight: number;
  readonly delayed: number;
}
