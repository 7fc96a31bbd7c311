import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import { SqsQueue } from "../../functions/distributor/adapters/sqs-queue";
import { makeHandler } from "../../functions/distributor/intake/handler";
import { SqsWorker } from "../../functions/distributor/intake/worker";
import { loadSettings } from "../../functions/distributor/settings";
import { createEngine } from "../../functions/distributor/wiring";
import {
  CENTRAL_ACCOUNT,
  clientsFor,
  createBucket,
  createConfigTable,
  createLedgerTable,
  createRegistryTable,
  distributorEnv,
  putConfig,
  queueDepth,
  REGION,
  readLogGroup,
  registerTenant,
} from "../harness/aws";
import { s3Event, snsEnvelope, sqsRecord } from "../harness/factories";
import { FaultProxy, jsonError, queryError, s3Error, throttle } from "../harness/fault-proxy";
import { MemoryTelemetry } from "../harness/memory-telemetry";
import { useMoto } from "../harness/moto-suite";

/**
 * Exactly-once delivery under real faults: the distributor talks to the emulator through a proxy
 * that answers as AWS does under load, cuts bodies and kills workers. Every event carries a unique
 * id; the counts are taken in the customer's account.
 */

const BUCKET = "logrelay-central-faults";
const CONFIG_TABLE = "faults-tenant-configs";
const LEDGER_TABLE = "faults-delivery-ledger";
const REGISTRY_TABLE = "faults-tenant-registry";
const ACCOUNT = "333333333333";
const ROOT = join(__dirname, "..", "..");

const baseEnv = () =>
  distributorEnv(
    { config: CONFIG_TABLE, registry: REGISTRY_TABLE, ledger: LEDGER_TABLE },
    {
      CONFIG_CACHE_TTL_SECONDS: "0",
      RETRY_BASE_DELAY_MS: "5",
      RETRY_MAX_DELAY_MS: "40",
      // Shorter than the killed worker's 30 s visibility, so the next worker takes over.
      CLAIM_LEASE_SECONDS: "10",
      MESSAGE_BUDGET_SECONDS: "120",
    },
  );

const engineFor = (telemetry = new MemoryTelemetry(), extra: Record<string, string> = {}) =>
  createEngine(loadSettings({ ...baseEnv(), ...extra }), telemetry);

/** `n` events of about `size` bytes each, every one with a unique id, a second apart, ending now. */
function eventsFor(tenant: string, object: number, n: number, size = 150) {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    message: `${tenant}:${object}:${i}:${"x".repeat(size)}`,
    timestamp: new Date(now - (n - i) * 10).toISOString(),
  }));
}

/** Puts an object into the central bucket; returns the notification S3 would send for it. */
async function stage(tenant: string, object: number, events: { message: string }[]): Promise<string> {
  const key = `${tenant}/cluster-1/app/pod-${object}/1700000000-${object}.log.gz`;
  const body = gzipSync(`${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
  const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
  const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return JSON.stringify(snsEnvelope(s3Event(BUCKET, key, { eTag: out.ETag!, size: body.length })));
}

async function configure(tenant: string): Promise<string> {
  const group = `/logrelay/${tenant}`;
  await registerTenant(REGISTRY_TABLE, tenant, [ACCOUNT]);
  await putConfig(CONFIG_TABLE, {
    tenant_id: tenant,
    type: "cloudwatch",
    log_distribution_role_arn: `arn:aws:iam::${ACCOUNT}:role/logrelay/LogDistribution`,
    external_id: `ext-${tenant}-0001`,
    log_group_name: group,
  });
  return group;
}

/** The most events one PutLogEvents batch of these events can hold (the shortest message decides). */
const oneBatch = (events: { message: string }[]) =>
  Math.floor(1_048_576 / (Math.min(...events.map((e) => Buffer.byteLength(e.message))) + 26));

/** Missing and duplicated events of `expected` in the tenant's log group. */
async function tally(group: string, expected: { message: string }[]) {
  const { logs } = await clientsFor(ACCOUNT);
  const got = Object.values((await readLogGroup(logs, group)) ?? {})
    .flat()
    .map((e) => e.message);
  const counts = new Map<string, number>();
  for (const m of got) counts.set(m, (counts.get(m) ?? 0) + 1);
  const missing = expected.filter((e) => !counts.has(e.message)).length;
  const duplicates = [...counts.values()].reduce((sum, c) => sum + c - 1, 0);
  return { arrived: got.length, missing, duplicates };
}

/** Deterministic pseudo-random numbers, so a failure can be reproduced. */
function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("exactly-once delivery under faults (fault proxy in front of the emulator)", () => {
  const moto = useMoto();
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = new FaultProxy(moto());
    process.env.AWS_ENDPOINT_URL = await proxy.start();
    await createConfigTable(CONFIG_TABLE);
    await createRegistryTable(REGISTRY_TABLE);
    await createLedgerTable(LEDGER_TABLE);
    await createBucket((await clientsFor(CENTRAL_ACCOUNT)).s3, BUCKET);
  });
  afterEach(() => proxy.setRules([]));
  afterAll(() => proxy.stop());

  it("30% of PutLogEvents throttled, a burst longer than the per-call retries, 500/503 from every service: once each", async () => {
    const group = await configure("throttled");
    const random = seeded(7);
    proxy.setRules([
      { operation: "PutLogEvents", when: (n) => n >= 3 && n <= 10, action: throttle },
      { operation: "PutLogEvents", when: () => random() < 0.3, action: throttle },
      {
        operation: "PutLogEvents",
        when: (n) => n % 7 === 0,
        action: jsonError("ServiceUnavailableException", "unavailable", 503),
      },
      {
        operation: "GetObject",
        when: (n) => n % 2 === 1,
        action: s3Error("SlowDown", "reduce your rate", 503),
      },
      {
        operation: "AssumeRole",
        when: (n) => n === 1,
        action: queryError("InternalFailure", "oops", 500, "Receiver"),
      },
      {
        operation: "UpdateItem",
        when: (n) => n % 4 === 2,
        action: jsonError("InternalServerError", "boom", 500),
      },
      { operation: "Query", when: (n) => n === 1, action: jsonError("ThrottlingException", "slow down") },
    ]);
    const expected: { message: string }[] = [];
    const engine = engineFor();
    for (let o = 0; o < 3; o++) {
      const events = eventsFor("throttled", o, 12_000, 200);
      expected.push(...events);
      const result = await engine.processMessage(await stage("throttled", o, events));
      expect(result.status).toBe("delivered");
    }

    expect(proxy.injected.get("PutLogEvents")).toBeGreaterThan(8);
    expect(await tally(group, expected)).toEqual({ arrived: expected.length, missing: 0, duplicates: 0 });
  });

  it("a flood the worker defers and recalls, every notification twice, throttled and 5xx: once each, queue empty", async () => {
    const floodGroup = await configure("flooding");
    const quietGroup = await configure("quieter");
    const sqs = new SQSClient({ region: REGION });
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: "flood-faults" }))).QueueUrl!;
    const expected = { flooding: [] as { message: string }[], quieter: [] as { message: string }[] };
    for (let o = 0; o < 16; o++) {
      const tenant = o % 8 === 7 ? "quieter" : "flooding";
      const events = eventsFor(tenant, o, 400, 100);
      expected[tenant].push(...events);
      const body = await stage(tenant, o, events);
      for (let copy = 0; copy < 2; copy++)
        await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    }
    const random = seeded(11);
    proxy.setRules([
      { operation: "PutLogEvents", when: () => random() < 0.3, action: throttle },
      {
        operation: "GetObject",
        when: (n) => n % 5 === 2,
        action: s3Error("SlowDown", "reduce your rate", 503),
      },
      {
        operation: "ChangeMessageVisibilityBatch",
        when: (n) => n === 2,
        action: jsonError("InternalError", "boom", 500),
      },
    ]);

    // Two slots and one waiting: most of the flood goes back to the queue and is recalled. A copy
    // met while its twin is in progress is left for retry; the long poll outlasts its visibility.
    const stats = await new SqsWorker(engineFor(), new SqsQueue(sqs, url), new MemoryTelemetry(), {
      concurrency: 2,
      visibilitySeconds: 2,
      waitSeconds: 4,
      untilEmpty: true,
    }).run(new AbortController().signal);

    expect(stats.deferred).toBeGreaterThan(0);
    expect(stats).toMatchObject({ acknowledged: 32, delivered: 32 });
    expect(stats.left).toBeUndefined();
    expect(proxy.injected.get("PutLogEvents")).toBeGreaterThan(0);
    expect(await tally(floodGroup, expected.flooding)).toEqual({
      arrived: expected.flooding.length,
      missing: 0,
      duplicates: 0,
    });
    expect(await tally(quietGroup, expected.quieter)).toEqual({
      arrived: expected.quieter.length,
      missing: 0,
      duplicates: 0,
    });
    expect(await queueDepth(sqs, url)).toBe(0);
  }, 120_000);

  it("an S3 body cut mid-stream is reopened and resumed, not failed and not re-sent", async () => {
    const group = await configure("cut");
    const events = eventsFor("cut", 0, 30_000, 200);
    const body = await stage("cut", 0, events);
    const size = JSON.parse(JSON.parse(body).Message).Records[0].s3.object.size as number;
    proxy.setRules([
      {
        operation: "GetObject",
        when: (n) => n === 1,
        action: { kind: "cut", afterBytes: Math.floor(size * 0.6) },
      },
    ]);
    const telemetry = new MemoryTelemetry();

    const result = await engineFor(telemetry).processMessage(body);

    expect(result.status).toBe("delivered");
    expect(proxy.count("GetObject")).toBe(2);
    expect(telemetry.lines.some((l) => l.message.includes("read interrupted"))).toBe(true);
    expect(await tally(group, events)).toEqual({ arrived: events.length, missing: 0, duplicates: 0 });
  });

  it("a checkpoint write that fails after an accepted PutLogEvents is retried: nothing is sent twice", async () => {
    const group = await configure("ledger-fault");
    const events = eventsFor("ledger-fault", 0, 20_000, 200);
    proxy.setRules([
      {
        operation: "UpdateItem",
        bodyIncludes: "cp_position",
        when: (n) => n <= 6,
        action: jsonError("InternalServerError", "ledger unavailable", 500),
      },
    ]);

    const result = await engineFor().processMessage(await stage("ledger-fault", 0, events));

    expect(result.status).toBe("delivered");
    expect(proxy.injected.get("UpdateItem")).toBeGreaterThan(0);
    expect(await tally(group, events)).toEqual({ arrived: events.length, missing: 0, duplicates: 0 });
  });

  it("a checkpoint store down past the budget: the next attempt resumes, at most one batch repeats", async () => {
    const group = await configure("ledger-down");
    const events = eventsFor("ledger-down", 0, 20_000, 200);
    const message = await stage("ledger-down", 0, events);
    proxy.setRules([
      {
        operation: "UpdateItem",
        bodyIncludes: "cp_position",
        when: (n) => n >= 3,
        action: jsonError("InternalServerError", "ledger unavailable", 500),
      },
    ]);
    const first = await engineFor(new MemoryTelemetry(), { MESSAGE_BUDGET_SECONDS: "10" }).processMessage(
      message,
    );
    proxy.setRules([]);
    const second = await engineFor().processMessage(message);

    expect(first.status).toBe("failed_transient");
    expect(second.status).toBe("delivered");
    const t = await tally(group, events);
    expect(t.missing).toBe(0);
    expect(t.duplicates).toBeLessThanOrEqual(oneBatch(events));
  });

  it("the same notification 3 times at once (worker and Lambda handler): delivered once, the copies settle later", async () => {
    const group = await configure("dupes");
    const events = eventsFor("dupes", 0, 15_000, 200);
    const message = await stage("dupes", 0, events);
    const sqs = new SQSClient({ region: REGION });
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: "dupes" }))).QueueUrl!;
    for (let i = 0; i < 3; i++)
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: message }));
    const engine = engineFor();
    // A long poll longer than the visibility: the copies left for retry come back and are acknowledged.
    const stats = await new SqsWorker(engine, new SqsQueue(sqs, url), new MemoryTelemetry(), {
      visibilitySeconds: 2,
      waitSeconds: 4,
      untilEmpty: true,
    }).run(new AbortController().signal);

    expect(stats.acknowledged).toBe(3);
    expect(stats.delivered).toBe(3);
    expect(await tally(group, events)).toEqual({ arrived: events.length, missing: 0, duplicates: 0 });

    const lambdaGroup = await configure("dupes-lambda");
    const lambdaEvents = eventsFor("dupes-lambda", 0, 15_000, 200);
    const body = await stage("dupes-lambda", 0, lambdaEvents);
    const handler = makeHandler(engineFor());
    const context = { getRemainingTimeInMillis: () => 60_000 } as Context;
    const event: SQSEvent = { Records: ["a", "b", "c"].map((id) => sqsRecord(body, id)) };
    const firstResponse = await handler(event, context);
    const retried = new Set(firstResponse.batchItemFailures.map((f) => f.itemIdentifier));
    const secondResponse = await handler(
      { Records: event.Records.filter((r) => retried.has(r.messageId)) },
      context,
    );

    expect(secondResponse.batchItemFailures).toEqual([]);
    expect(await tally(lambdaGroup, lambdaEvents)).toEqual({
      arrived: lambdaEvents.length,
      missing: 0,
      duplicates: 0,
    });
  });

  it("a Lambda deadline reached mid-object: it checkpoints, returns the message, and the retry resumes", async () => {
    const group = await configure("deadline");
    const events = eventsFor("deadline", 0, 24_000, 200);
    const body = await stage("deadline", 0, events);
    proxy.setRules([{ operation: "PutLogEvents", action: { kind: "delay", ms: 800 } }]);
    const handler = makeHandler(engineFor(), { marginMs: 200, minStartMs: 500 });
    const record = sqsRecord(body, "deadline-1");
    const started = Date.now();
    // 5.8 s of budget, of which the last 3 s are kept for the checkpoint: about 3 of 6 batches go out.
    const short = { getRemainingTimeInMillis: () => 6_000 - (Date.now() - started) } as Context;

    const first = await handler({ Records: [record] }, short);
    const partial = await tally(group, events);
    const second = await handler({ Records: [record] }, {
      getRemainingTimeInMillis: () => 60_000,
    } as Context);

    expect(first.batchItemFailures).toEqual([{ itemIdentifier: "deadline-1" }]);
    expect(partial.arrived).toBeGreaterThan(0);
    expect(partial.arrived).toBeLessThan(events.length);
    expect(second.batchItemFailures).toEqual([]);
    expect(await tally(group, events)).toEqual({ arrived: events.length, missing: 0, duplicates: 0 });
  });

  it("accounting: events in = delivered + rejected, bad lines counted, in the tool's own report", async () => {
    await configure("accounting");
    const good = eventsFor("accounting", 0, 900);
    const old = Array.from({ length: 40 }, (_, i) => ({
      message: `accounting:old:${i}`,
      timestamp: new Date(Date.now() - 20 * 86_400_000).toISOString(),
    }));
    const key = "accounting/cluster-1/app/pod-0/1700000000-0.log.gz";
    const text = `${[...good, ...old].map((e) => JSON.stringify(e)).join("\n")}\nnot json\n[1,2]\n`;
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: gzipSync(text) }));
    proxy.setRules([{ operation: "PutLogEvents", when: (n) => n % 2 === 1, action: throttle }]);

    const result = await engineFor().processMessage(JSON.stringify(s3Event(BUCKET, key)));

    const d = result.objects[0]!.destinations[0]!;
    expect(d).toMatchObject({ status: "delivered", eventsDelivered: 900, eventsRejected: 40, badLines: 3 });
    expect(d.eventsDelivered + d.eventsRejected).toBe(good.length + old.length);
  });

  it("a truncated gzip object: the events before the damage arrive once, then a permanent failure with the line", async () => {
    const group = await configure("truncated");
    const events = eventsFor("truncated", 0, 5_000);
    const whole = gzipSync(`${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
    const key = "truncated/cluster-1/app/pod-0/1700000000-0.log.gz";
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: whole.subarray(0, Math.floor(whole.length * 0.7)),
      }),
    );

    const result = await engineFor().processMessage(JSON.stringify(s3Event(BUCKET, key)));

    const d = result.objects[0]!.destinations[0]!;
    expect(d.status).toBe("failed_permanent");
    expect(d.reason).toMatch(
      /CorruptObjectError: object is not valid gzip.*damage after line \d+.*events before it were delivered/,
    );
    const line = Number(/after line (\d+)/.exec(d.reason!)![1]);
    const t = await tally(group, events.slice(0, line));
    expect(line).toBeGreaterThan(1_000);
    expect(t).toEqual({ arrived: d.eventsDelivered, missing: 0, duplicates: 0 });
    expect(d.eventsDelivered).toBe(line);
  });

  describe("a worker killed with SIGKILL mid-object", () => {
    let child: ChildProcess | undefined;
    afterEach(() => child?.kill("SIGKILL"));

    const startWorker = (url: string, extra: string[] = []) =>
      spawn(
        process.execPath,
        [
          join(ROOT, "bin", "logrelay.js"),
          "deliver",
          "--queue-url",
          url,
          "--visibility-timeout",
          "30",
          ...extra,
        ],
        {
          env: baseEnv(),
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
    const exited = (p: ChildProcess) =>
      new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));

    it("a new worker after the visibility timeout resumes from the checkpoint: at most one batch repeats", async () => {
      const group = await configure("killed");
      const events = eventsFor("killed", 0, 60_000, 200);
      const message = await stage("killed", 0, events);
      const sqs = new SQSClient({ region: REGION });
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: "killed" }))).QueueUrl!;
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: message }));
      const worker = startWorker(url);
      child = worker;
      const killed = exited(worker);
      proxy.setRules([
        {
          operation: "PutLogEvents",
          when: (n) => n === 6,
          action: { kind: "after", hook: () => worker.kill("SIGKILL") },
        },
      ]);
      await killed;
      const partial = await tally(group, events);

      // The message comes back after its 30 s visibility; the claim's 10 s lease is long gone.
      await new Promise((r) => setTimeout(r, 31_000));
      proxy.setRules([]);
      const second = startWorker(url, ["--until-empty"]);
      child = second;
      const code = await exited(second);

      const t = await tally(group, events);
      expect(partial.arrived).toBeGreaterThanOrEqual(5 * 1000);
      expect(partial.arrived).toBeLessThan(events.length);
      expect(code).toBe(0);
      expect(t.missing).toBe(0);
      expect(t.duplicates).toBeLessThanOrEqual(oneBatch(events));
      expect(await queueDepth(sqs, url)).toBe(0);
    }, 120_000);
  });
});
