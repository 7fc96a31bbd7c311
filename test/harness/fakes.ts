import { createHash } from "node:crypto";
import { DeliveryEngine, type EngineSettings } from "../../functions/distributor/engine";
import { ClaimLostError, ObjectNotFoundError } from "../../functions/distributor/errors";
import type { LogEvent } from "../../functions/distributor/log-records";
import type {
  Checkpoint,
  Claim,
  CloudWatchLogsApi,
  ConfigSource,
  CredentialBroker,
  DeliveryLedger,
  DestinationSession,
  ObjectSource,
  ObjectWriter,
  PutLogEventsResult,
  PutObjectRequest,
  RegistrySource,
  SessionRequest,
  StagedObject,
} from "../../functions/distributor/ports";
import { CachedRegistry, CachedTenantConfigs } from "../../functions/distributor/tenant-configs";
import { accountOfRoleArn } from "../../functions/shared/patterns";
import { MemoryTelemetry } from "./memory-telemetry";

/** In-memory stand-ins for the engine's ports. */

export class FakeObjects implements ObjectSource {
  readonly objects = new Map<string, Buffer>();
  opens = 0;
  open = async (bucket: string, key: string): Promise<StagedObject> => {
    this.opens++;
    const body = this.objects.get(`${bucket}/${key}`);
    if (!body) throw new ObjectNotFoundError(bucket, key);
    async function* chunks() {
      for (let i = 0; i < body!.length; i += 64 * 1024) yield body!.subarray(i, i + 64 * 1024);
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
      throw Object.assign(new Error(`not authorized to perform sts:AssumeRole on ${request.roleArn}`), {
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
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
  /** Accounts whose every put fails with this error (an outage of one destination). */
  readonly down = new Map<string, Error>();

  factory = (session: DestinationSession): CloudWatchLogsApi => {
    const account = session.accountId;
    return {
      putLogEvents: async (group, stream, events) => {
        this.onPut?.();
        const fault = this.faults.shift() ?? this.down.get(account);
        if (fault) throw fault;
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

export class FakeWriter implements ObjectWriter {
  readonly puts: { session: DestinationSession; request: PutObjectRequest; body: Buffer }[] = [];
  readonly faults: Error[] = [];
  putObject = async (session: DestinationSession, request: PutObjectRequest) => {
    const chunks: Buffer[] = [];
    for await (const c of request.body) chunks.push(Buffer.from(c));
    const fault = this.faults.shift();
    if (fault) throw fault;
    this.puts.push({ session, request, body: Buffer.concat(chunks) });
  };
}

/** The ledger's claim and checkpoint rules in memory (DynamoDbDeliveryLedger's conditions). */
export class MemoryLedger implements DeliveryLedger {
  readonly durable = true;
  readonly entries = new Map<
    string,
    { state: "in_progress" | "complete"; owner: string; leaseUntil: number; checkpoint?: Checkpoint }
  >();
  writes = 0;
  /** Errors to throw on the next checkpoint writes, in order. */
  readonly checkpointFaults: Error[] = [];
  constructor(private readonly now: () => number = Date.now) {}

  claim = async (id: string, owner: string, leaseMs: number): Promise<Claim> => {
    this.writes++;
    const e = this.entries.get(id);
    if (e?.state === "complete") return { state: "complete" };
    if (e && e.owner !== owner && e.leaseUntil >= this.now())
      return { state: "busy", owner: e.owner, leaseUntilMs: e.leaseUntil };
    this.entries.set(id, {
      state: "in_progress",
      owner,
      leaseUntil: this.now() + leaseMs,
      checkpoint: e?.checkpoint,
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
  };
  complete = async (id: string, owner: string) => {
    this.writes++;
    this.held(id, owner).state = "complete";
  };
  release = async (id: string, owner: string) => {
    this.held(id, owner).leaseUntil = 0;
  };
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
    writer: new FakeWriter(),
    ledger: new MemoryLedger(() => clock.now),
    telemetry: new MemoryTelemetry(),
    sleeps: [] as number[],
  };
  const engine = new DeliveryEngine(
    {
      objects: world.objects,
      configs: new CachedTenantConfigs(world.configs, 0),
      registry: new CachedRegistry(world.registry, 0),
      credentials: world.broker,
      cloudWatchLogs: world.logs.factory,
      objectWriter: world.writer,
      ledger: world.ledger,
      telemetry: world.telemetry,
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
  return { ...world, engine };
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
