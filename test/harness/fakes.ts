import { createHash } from "node:crypto";
import { DeliveryEngine, type EngineSettings } from "../../functions/distributor/engine";
import type { LogEvent } from "../../functions/distributor/log-records";
import type {
  CloudWatchLogsApi,
  ConfigSource,
  CredentialBroker,
  DeliveryLedger,
  DestinationSession,
  ObjectSource,
  ObjectWriter,
  PutLogEventsResult,
  PutObjectRequest,
  SessionRequest,
  StagedObject,
} from "../../functions/distributor/ports";
import { CachedTenantConfigs } from "../../functions/distributor/tenant-configs";
import { accountOfRoleArn } from "../../functions/shared/patterns";
import { MemoryTelemetry } from "./memory-telemetry";

/** In-memory stand-ins for the engine's ports. */

export class FakeObjects implements ObjectSource {
  readonly objects = new Map<string, Buffer>();
  opens = 0;
  open = async (bucket: string, key: string): Promise<StagedObject> => {
    this.opens++;
    const body = this.objects.get(`${bucket}/${key}`);
    if (!body) throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
    async function* chunks() {
      for (let i = 0; i < body!.length; i += 64 * 1024) yield body!.subarray(i, i + 64 * 1024);
    }
    return { body: chunks(), contentLength: body.length, lastModified: new Date("2026-11-20T10:00:00Z") };
  };
  ranges = async (bucket: string, key: string) => {
    const body = this.objects.get(`${bucket}/${key}`);
    if (!body) throw Object.assign(new Error("Not Found"), { name: "NotFound" });
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
    if (!body) throw Object.assign(new Error("Not Found"), { name: "NotFound" });
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

  factory = (session: DestinationSession): CloudWatchLogsApi => {
    const account = session.accountId;
    return {
      putLogEvents: async (group, stream, events) => {
        const fault = this.faults.shift();
        if (fault) throw fault;
        const streams = this.groups.get(`${account}:${group}`);
        if (!streams?.has(stream)) {
          throw Object.assign(new Error("The specified log group does not exist."), {
            name: "ResourceNotFoundException",
          });
        }
        this.batches.push({ account, group, stream, events: [...events] });
        streams.get(stream)!.push(...events);
        return this.rejected ?? {};
      },
      createLogGroup: async (group) => {
        if (!this.groups.has(`${account}:${group}`)) this.groups.set(`${account}:${group}`, new Map());
      },
      createLogStream: async (group, stream) => {
        const streams = this.groups.get(`${account}:${group}`)!;
        if (!streams.has(stream)) streams.set(stream, []);
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

export class MemoryLedger implements DeliveryLedger {
  readonly durable = true;
  readonly entries = new Map<string, Record<string, string | number>>();
  has = async (id: string) => this.entries.has(id);
  record = async (id: string, detail: Record<string, string | number>) => {
    this.entries.set(id, detail);
  };
}

export const NOW = Date.parse("2026-11-20T12:00:00Z");

export function fakeWorld(settings: Partial<EngineSettings> = {}) {
  const world = {
    objects: new FakeObjects(),
    configs: new FakeConfigs(),
    broker: new FakeBroker(),
    logs: new FakeLogs(),
    writer: new FakeWriter(),
    ledger: new MemoryLedger(),
    telemetry: new MemoryTelemetry(),
    sleeps: [] as number[],
  };
  const engine = new DeliveryEngine(
    {
      objects: world.objects,
      configs: new CachedTenantConfigs(world.configs, 0),
      credentials: world.broker,
      cloudWatchLogs: world.logs.factory,
      objectWriter: world.writer,
      ledger: world.ledger,
      telemetry: world.telemetry,
      now: () => NOW,
    },
    {
      region: "us-east-1",
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
      retryHooks: { sleep: async (ms) => void world.sleeps.push(ms), random: () => 0.5 },
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
