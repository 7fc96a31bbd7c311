import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { CachedRegistry, CachedTenantConfigs } from "../../functions/distributor/admission/tenant-configs";
import {
  eventBytes,
  PUT_LOG_EVENTS_LIMITS,
} from "../../functions/distributor/delivery/destinations/cloudwatch/batching";
import { DeliveryEngine, type EngineSettings } from "../../functions/distributor/delivery/engine";
import { ClaimLostError, ObjectNotFoundError } from "../../functions/distributor/errors";
import type { Checkpoint, Claim } from "../../functions/distributor/model/ledger";
import type {
  DestinationRef,
  DestinationState,
  LostEntry,
  ParkedDelivery,
  ParkedEntry,
} from "../../functions/distributor/model/parked";
import type { Pulse } from "../../functions/distributor/model/pulse";
import { Parking } from "../../functions/distributor/parking/parking";
import { ParkedRecovery } from "../../functions/distributor/parking/recovery";
import { ParkedRedelivery } from "../../functions/distributor/parking/redelivery";
import type {
  CloudWatchLogsApi,
  ConfigSource,
  CredentialBroker,
  DeliveryLedger,
  DestinationSession,
  FirehoseApi,
  Notifier,
  ObjectSource,
  ObjectWriter,
  ParkingStore,
  PulseStore,
  PutLogEventsResult,
  PutObjectRequest,
  RegistrySource,
  SessionRequest,
  StagedObject,
} from "../../functions/distributor/ports";
import type { LogEvent } from "../../functions/distributor/reading/log-records";
import { HeartbeatPulse } from "../../functions/distributor/reporting/heartbeats";
import { CustomerRoleRefusedError } from "../../functions/shared/credentials";
import type { DestinationValidator } from "../../functions/shared/destination-checks";
import { accountOfRoleArn } from "../../functions/shared/patterns";
import { s3Event, snsEnvelope } from "./factories";
import { MemoryTelemetry } from "./memory-telemetry";

/** In-memory stand-ins for the engine's ports. */

export class FakeObjects implements ObjectSource {
  readonly objects = new Map<string, Buffer>();
  opens = 0;
  open = async (bucket: string, key: string): Promise<StagedObject> => {
    this.opens++;
    const body = this.objects.get(`${bucket}/${key}`);
    if (!body) throw new ObjectNotFoundError(bucket, key);
    const served = () => this.chunksServed++;
    async function* chunks() {
      for (let i = 0; i < body!.length; i += 64 * 1024) {
        served();
        yield body!.subarray(i, i + 64 * 1024);
      }
    }
    return { body: chunks(), contentLength: body.length, lastModified: new Date("2026-11-20T10:00:00Z") };
  };
  ranges = async (bucket: string, key: string) => {
    const body = this.objects.get(`${bucket}/${key}`);
    if (!body) throw new ObjectNotFoundError(bucket, key);
    return {
      size: body.length,
      lastModified: new Date("2026-11-20T10:00:00Z"),
      read: async (start: number, end: number) => {
        this.rangeReads++;
        const fault = this.rangeFaults.shift();
        if (fault) throw fault;
        return new Uint8Array(body.subarray(start, end));
      },
    };
  };
  rangeReads = 0;
  /** 64 KB chunks of object bodies handed to readers so far. */
  chunksServed = 0;
  /** Errors to throw on the next range reads, in order. */
  readonly rangeFaults: Error[] = [];
  identifies = 0;
  identify = async (bucket: string, key: string) => {
    this.identifies++;
    const body = this.objects.get(`${bucket}/${key}`);
    if (!body) throw new ObjectNotFoundError(bucket, key);
    return { eTag: `"${createHash("md5").update(body).digest("hex")}"` };
  };
}

export class FakeConfigs implements ConfigSource {
  readonly items = new Map<string, Record<string, unknown>[]>();
  failWith?: Error;
  lookups = 0;
  itemsFor = async (tenantId: string) => {
    this.lookups++;
    if (this.failWith) throw this.failWith;
    return this.items.get(tenantId) ?? [];
  };
}

/**
 * The tenant registry. A tenant set in `registrations` has exactly that; one that is not is
 * registered, as onboarding would, for the accounts its configs in `configs` name, unless it is
 * in `unregistered`.
 */
export class FakeRegistry implements RegistrySource {
  readonly registrations = new Map<string, Record<string, unknown>>();
  readonly unregistered = new Set<string>();
  reads = 0;
  constructor(private readonly configs: FakeConfigs) {}
  registrationOf = async (tenantId: string) => {
    this.reads++;
    if (this.registrations.has(tenantId)) return this.registrations.get(tenantId);
    if (this.unregistered.has(tenantId)) return undefined;
    const accounts = (this.configs.items.get(tenantId) ?? [])
      .map((i) => /^arn:aws:iam::(\d{12}):/.exec(String(i.log_distribution_role_arn))?.[1])
      .filter((a): a is string => a !== undefined);
    return { tenant_id: tenantId, accounts: accounts.length > 0 ? [...new Set(accounts)] : ["000000000000"] };
  };
}

export class FakeBroker implements CredentialBroker {
  readonly requests: SessionRequest[] = [];
  denyRoles = new Set<string>();
  destinationSession = async (request: SessionRequest): Promise<DestinationSession> => {
    this.requests.push(request);
    if (this.denyRoles.has(request.roleArn)) {
      // As StsCredentialBroker names a refusal of the customer's hop.
      const denied = Object.assign(
        new Error(`not authorized to perform sts:AssumeRole on ${request.roleArn}`),
        {
          name: "AccessDenied",
          $metadata: { httpStatusCode: 403 },
        },
      );
      throw new CustomerRoleRefusedError(`the customer's role ${request.roleArn} refused AssumeRole`, {
        cause: denied,
      });
    }
    return {
      credentials: { accessKeyId: `AK-${request.tenantId}`, secretAccessKey: "s" },
      region: request.region,
      accountId: accountOfRoleArn(request.roleArn),
      cacheKey: request.roleArn,
    };
  };
}

/** One fake CloudWatch Logs per account; records every batch; faults are scripted per call. */
export class FakeLogs {
  readonly groups = new Map<string, Map<string, LogEvent[]>>();
  readonly batches: { account: string; group: string; stream: string; events: LogEvent[] }[] = [];
  /** Errors to throw on the next putLogEvents calls, in order. */
  readonly faults: Error[] = [];
  rejected?: PutLogEventsResult;
  /** Called before every put (e.g. to abort a worker mid-delivery). */
  onPut?: () => void;
  /** Awaited inside every put, before it is accepted: the call's time on the wire. */
  wire?: () => Promise<void>;
  /** Puts in flight now, and the most there were at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Accounts whose every put fails with this error (an outage of one destination). */
  readonly down = new Map<string, Error>();
  /** Decides a fault by the put's number (from 1), after `faults` is empty. */
  fail?: (put: number) => Error | undefined;
  private puts = 0;

  factory = (session: DestinationSession): CloudWatchLogsApi => {
    const account = session.accountId;
    return {
      putLogEvents: async (group, stream, events) => {
        this.onPut?.();
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
        try {
          await this.wire?.();
        } finally {
          this.inFlight--;
        }
        const fault = this.faults.shift() ?? this.fail?.(++this.puts) ?? this.down.get(account);
        if (fault) throw fault;
        // CloudWatch refuses a batch over its limits whole (the size counts UTF-8 bytes + 26 each).
        const bytes = events.reduce((n, e) => n + eventBytes(e.message), 0);
        if (bytes > PUT_LOG_EVENTS_LIMITS.maxBatchBytes || events.length > PUT_LOG_EVENTS_LIMITS.maxEvents) {
          throw Object.assign(
            new Error(
              `Upload too large: ${bytes} bytes exceeds limit of ${PUT_LOG_EVENTS_LIMITS.maxBatchBytes}`,
            ),
            { name: "InvalidParameterException", $metadata: { httpStatusCode: 400 } },
          );
        }
        if (!this.groups.has(`${account}:${group}`)) this.groups.set(`${account}:${group}`, new Map());
        const streams = this.groups.get(`${account}:${group}`)!;
        if (!streams.has(stream)) streams.set(stream, []);
        this.batches.push({ account, group, stream, events: [...events] });
        streams.get(stream)!.push(...events);
        return this.rejected ?? {};
      },
    };
  };

  eventsIn(account: string, group: string): LogEvent[] {
    return [...(this.groups.get(`${account}:${group}`)?.values() ?? [])].flat();
  }
}

/** One fake Firehose per account; records every accepted record; refusals are scripted per call. */
export class FakeFirehose {
  /** Accepted records by `<account>:<stream>`, as JSON lines. */
  readonly streams = new Map<string, string[]>();
  readonly calls: { account: string; stream: string; records: number }[] = [];
  /** Errors to throw on the next calls, in order. */
  readonly faults: Error[] = [];
  /** Per call, the indexes of records to refuse (ServiceUnavailableException), in order. */
  readonly refusals: number[][] = [];

  factory = (session: DestinationSession): FirehoseApi => ({
    putRecordBatch: async (stream, records) => {
      this.calls.push({ account: session.accountId, stream, records: records.length });
      const fault = this.faults.shift();
      if (fault) throw fault;
      if (records.length > 500 || records.reduce((n, r) => n + r.length, 0) > 4 * 1024 * 1024)
        throw Object.assign(new Error("batch over PutRecordBatch's limits"), {
          name: "InvalidArgumentException",
        });
      const refuse = new Set(this.refusals.shift() ?? []);
      const key = `${session.accountId}:${stream}`;
      if (!this.streams.has(key)) this.streams.set(key, []);
      const failed: { index: number; code: string; message: string }[] = [];
      records.forEach((r, index) => {
        if (refuse.has(index))
          failed.push({ index, code: "ServiceUnavailableException", message: "Slow down." });
        else this.streams.get(key)!.push(Buffer.from(r).toString("utf8"));
      });
      return { failed };
    },
  });

  recordsIn(account: string, stream: string): Record<string, unknown>[] {
    return (this.streams.get(`${account}:${stream}`) ?? []).map((line) => {
      expect(line.endsWith("\n")).toBe(true);
      return JSON.parse(line) as Record<string, unknown>;
    });
  }
}

export class FakeWriter implements ObjectWriter {
  readonly puts: { session: DestinationSession; request: PutObjectRequest; body: Buffer }[] = [];
  readonly faults: Error[] = [];
  /** Decides a fault by the put's number (from 1), after `faults` is empty. */
  fail?: (put: number) => Error | undefined;
  private calls = 0;
  putObject = async (session: DestinationSession, request: PutObjectRequest) => {
    const chunks: Buffer[] = [];
    for await (const c of request.body) chunks.push(Buffer.from(c));
    const fault = this.faults.shift() ?? this.fail?.(++this.calls);
    if (fault) throw fault;
    this.puts.push({ session, request, body: Buffer.concat(chunks) });
  };
}

type LedgerEntry = {
  state: "in_progress" | "complete" | "parked" | "lost";
  owner: string;
  leaseUntil: number;
  checkpoint?: Checkpoint;
  /** What a parked or lost item carries (and its index partition). */
  aside?: ParkedDelivery & { group: string; parkedAt: string; lostAt?: string; lostReason?: string };
};

/** The ledger's claim, checkpoint and park rules in memory (DynamoDbDeliveryLedger's conditions). */
export class MemoryLedger implements DeliveryLedger {
  readonly durable = true;
  readonly entries = new Map<string, LedgerEntry>();
  writes = 0;
  /** Errors to throw on the next checkpoint writes, in order. */
  readonly checkpointFaults: Error[] = [];
  /** Every checkpoint written, in order. */
  readonly saves: Checkpoint[] = [];
  constructor(private readonly now: () => number = Date.now) {}

  claim = async (
    id: string,
    owner: string,
    leaseMs: number,
    options: { takeParked?: boolean } = {},
  ): Promise<Claim> => {
    this.writes++;
    const e = this.entries.get(id);
    if (e?.state === "complete") return { state: "complete" };
    if (e?.state === "lost") return { state: "lost", reason: e.aside?.lostReason ?? "" };
    if (e?.state === "parked" && !options.takeParked)
      return { state: "parked", reason: e.aside?.reason ?? "", parkedAt: e.aside?.parkedAt ?? "" };
    if (e?.state === "in_progress" && e.owner !== owner && e.leaseUntil >= this.now())
      return { state: "busy", owner: e.owner, leaseUntilMs: e.leaseUntil };
    this.entries.set(id, {
      state: "in_progress",
      owner,
      leaseUntil: this.now() + leaseMs,
      checkpoint: e?.checkpoint,
      ...(e?.aside && { aside: e.aside }),
    });
    return { state: "claimed", ...(e?.checkpoint && { checkpoint: e.checkpoint }) };
  };
  private held(id: string, owner: string) {
    const e = this.entries.get(id);
    if (!e || e.owner !== owner || e.state !== "in_progress")
      throw new ClaimLostError(`the claim on ${id} is no longer held by ${owner}`);
    return e;
  }
  renew = async (id: string, owner: string, leaseMs: number) => {
    this.held(id, owner).leaseUntil = this.now() + leaseMs;
  };
  checkpoint = async (id: string, owner: string, checkpoint: Checkpoint) => {
    this.writes++;
    const fault = this.checkpointFaults.shift();
    if (fault) throw fault;
    this.held(id, owner).checkpoint = checkpoint;
    this.saves.push(checkpoint);
  };
  complete = async (id: string, owner: string) => {
    this.writes++;
    const e = this.held(id, owner);
    e.state = "complete";
    e.aside = undefined;
  };
  release = async (id: string, owner: string) => {
    this.held(id, owner).leaseUntil = 0;
  };
  park = async (id: string, owner: string, parked: ParkedDelivery) => {
    this.writes++;
    const e = this.held(id, owner);
    const parkedAt = e.aside?.parkedAt ?? new Date(this.now()).toISOString();
    Object.assign(e, { state: "parked", leaseUntil: 0 });
    e.aside = { ...parked, group: `parked#${parked.tenantId}#${parked.target}`, parkedAt };
  };
  lose = async (id: string, owner: string, lost: ParkedDelivery) => {
    this.writes++;
    const e = this.held(id, owner);
    Object.assign(e, { state: "lost", leaseUntil: 0 });
    e.aside = {
      ...lost,
      reason: e.aside?.reason ?? "",
      group: `lost#${lost.tenantId}#${lost.target}`,
      parkedAt: e.aside?.parkedAt ?? "",
      lostAt: new Date(this.now()).toISOString(),
      lostReason: lost.reason,
    };
  };
  /** The sparse index: items of one partition, by (object time, key). */
  inGroup(group: string): ParkedEntry[] {
    return [...this.entries.entries()]
      .filter(([, e]) => e.aside?.group === group)
      .map(([id, e]) => {
        const {
          group: _g,
          lostAt: _l,
          lostReason: _r,
          ...entry
        } = e.aside as NonNullable<LedgerEntry["aside"]>;
        return { ...entry, id };
      })
      .sort((a, b) => `${a.eventTime}|${a.key}`.localeCompare(`${b.eventTime}|${b.key}`));
  }
  parkedCount(): number {
    return [...this.entries.values()].filter((e) => e.state === "parked").length;
  }
}

/** Destination records in memory, with DynamoDbParkingStore's rules; parked items come from the ledger. */
export class MemoryParkingStore implements ParkingStore {
  readonly records = new Map<string, DestinationState>();
  constructor(
    private readonly ledger: MemoryLedger,
    private readonly now: () => number = Date.now,
  ) {}
  private key = (d: DestinationRef) => `${d.tenantId}#${d.target}`;
  destination = async (ref: DestinationRef) => this.records.get(this.key(ref));
  destinations = async () => [...this.records.values()];
  parked = async (ref: DestinationRef, limit?: number) =>
    this.ledger.inGroup(`parked#${ref.tenantId}#${ref.target}`).slice(0, limit);
  lost = async (ref: DestinationRef): Promise<LostEntry[]> =>
    [...this.ledger.entries.entries()]
      .filter(([, e]) => e.aside?.group === `lost#${ref.tenantId}#${ref.target}`)
      .map(([id, e]) => {
        const a = e.aside as NonNullable<LedgerEntry["aside"]>;
        return { ...a, id, lostAt: a.lostAt ?? "", lostReason: a.lostReason ?? "" };
      });
  recordPark = async (ref: DestinationRef, reason: string, counted: { threshold: number } | undefined) => {
    const now = new Date(this.now()).toISOString();
    const old = this.records.get(this.key(ref));
    let state: DestinationState = {
      tenantId: ref.tenantId,
      type: ref.type,
      target: ref.target,
      state: old?.state ?? "closed",
      streak: (old?.streak ?? 0) + (counted ? 1 : 0),
      reason,
      since: old?.since || now,
      lastParkedAt: now,
      ...(old?.openedAt && { openedAt: old.openedAt }),
      ...(old?.probe && { probe: old.probe }),
    };
    const opened = Boolean(counted && state.state === "closed" && state.streak >= counted.threshold);
    if (opened) state = { ...state, state: "open", openedAt: now };
    this.records.set(this.key(ref), state);
    return { state, opened };
  };
  recordSuccess = async (ref: DestinationRef) => {
    const old = this.records.get(this.key(ref));
    if (old?.state === "closed") this.records.set(this.key(ref), { ...old, streak: 0 });
  };
  recordProbe = async (ref: DestinationRef, probe: { ok: boolean; detail: string }) => {
    const old = this.records.get(this.key(ref));
    if (old)
      this.records.set(this.key(ref), {
        ...old,
        probe: { ...probe, at: new Date(this.now()).toISOString() },
      });
  };
  close = async (ref: DestinationRef) => {
    const old = this.records.get(this.key(ref));
    if (old?.state !== "open") return false;
    const { openedAt: _o, ...rest } = old;
    this.records.set(this.key(ref), { ...rest, state: "closed", streak: 0, since: "" });
    return true;
  };
}

/** Notices published, in order. */
export class MemoryNotifier implements Notifier {
  readonly notices: { subject: string; message: string; attributes: Record<string, string> }[] = [];
  notify = async (subject: string, message: string, attributes: Record<string, string>) => {
    this.notices.push({ subject, message, attributes });
  };
}

/** Pulses in memory, with the store's conditional write. */
export class MemoryPulseStore implements PulseStore {
  readonly pulses = new Map<string, Pulse>();
  get = async (clusterId: string) => this.pulses.get(clusterId);
  put = async (pulse: Pulse, readVersion: number | undefined) => {
    if (this.pulses.get(pulse.clusterId)?.version !== readVersion) return false;
    this.pulses.set(pulse.clusterId, pulse);
    return true;
  };
  all = async () => [...this.pulses.values()];
}

export const NOW = Date.parse("2026-11-20T12:00:00Z");

export function fakeWorld(settings: Partial<EngineSettings> = {}) {
  // The clock moves only when the engine sleeps (backoff), so deadlines pass in fake time.
  const clock = { now: NOW };
  const configs = new FakeConfigs();
  const world = {
    clock,
    objects: new FakeObjects(),
    configs,
    registry: new FakeRegistry(configs),
    broker: new FakeBroker(),
    logs: new FakeLogs(),
    firehose: new FakeFirehose(),
    writer: new FakeWriter(),
    ledger: new MemoryLedger(() => clock.now),
    telemetry: new MemoryTelemetry(),
    notifier: new MemoryNotifier(),
    pulses: new MemoryPulseStore(),
    sleeps: [] as number[],
  };
  const parkingStore = new MemoryParkingStore(world.ledger, () => clock.now);
  const parking = new Parking(parkingStore, world.notifier, world.telemetry, { cacheMs: 0 }, () => clock.now);
  const engine = new DeliveryEngine(
    {
      objects: world.objects,
      configs: new CachedTenantConfigs(world.configs, 0),
      registry: new CachedRegistry(world.registry, 0),
      credentials: world.broker,
      cloudWatchLogs: world.logs.factory,
      firehose: world.firehose.factory,
      objectWriter: world.writer,
      ledger: world.ledger,
      telemetry: world.telemetry,
      parking,
      heartbeats: {
        tenantId: "logrelay-heartbeat",
        pulse: new HeartbeatPulse(world.pulses, world.telemetry, () => clock.now),
      },
      now: () => clock.now,
    },
    {
      region: "us-east-1",
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
      retryHooks: {
        sleep: async (ms) => {
          world.sleeps.push(ms);
          clock.now += ms;
        },
        random: () => 0.5,
      },
      ...settings,
    },
  );
  // The probe runs the same checks as validate: here, whether the broker would give a session.
  const validator: DestinationValidator = {
    validate: async (config) => {
      const denied = world.broker.denyRoles.has(config.log_distribution_role_arn);
      return [{ check: "assume-customer-role", ok: !denied, detail: denied ? "AccessDenied" : "assumed" }];
    },
  };
  const recovery = new ParkedRecovery(
    new ParkedRedelivery(engine),
    parking,
    validator,
    new CachedTenantConfigs(world.configs, 0),
    world.objects,
    world.telemetry,
    "us-east-1",
  );
  return { ...world, engine, parking, parkingStore, recovery };
}

export const cwConfig = (tenant: string, account: string, extra: Record<string, unknown> = {}) => ({
  tenant_id: tenant,
  type: "cloudwatch",
  log_distribution_role_arn: `arn:aws:iam::${account}:role/LogDistribution`,
  external_id: `ext-${tenant}`,
  log_group_name: `/logs/${tenant}`,
  ...extra,
});

export const s3Config = (tenant: string, account: string, extra: Record<string, unknown> = {}) => ({
  tenant_id: tenant,
  type: "s3",
  log_distribution_role_arn: `arn:aws:iam::${account}:role/LogDistribution`,
  external_id: `ext-${tenant}`,
  bucket_name: `${tenant}-archive`,
  ...extra,
});

export const fhConfig = (tenant: string, account: string, extra: Record<string, unknown> = {}) => ({
  tenant_id: tenant,
  type: "firehose",
  log_distribution_role_arn: `arn:aws:iam::${account}:role/LogDistribution`,
  external_id: `ext-${tenant}`,
  delivery_stream_arn: `arn:aws:firehose:us-east-1:${account}:deliverystream/${tenant}-stream`,
  ...extra,
});

/** The staging bucket and an object key the engine tests deliver. */
export const BUCKET = "logrelay-central";
export const KEY = "acme/cluster-1/payment-service/payment-1/1763632800-u.log.gz";

/** `n` gzipped NDJSON records in Vector's shape, a millisecond apart from `start`. */
export function ndjson(n: number, start = NOW - 60_000, size = 20): Buffer {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      message: `event-${i}-${"x".repeat(size)}`,
      timestamp: new Date(start + i).toISOString(),
    }),
  );
  return gzipSync(`${lines.join("\n")}\n`);
}

/** An SQS body announcing `key` in BUCKET (an SNS envelope holding the S3 event). */
export function notificationOf(key = KEY): string {
  return JSON.stringify(snsEnvelope(s3Event(BUCKET, key, { eventTime: new Date(NOW - 5000) })));
}
