/**
 * End-to-end throughput: the real worker, engine, SDK clients and adapters against a local fake
 * AWS endpoint (bench/fake-aws.ts, its own process) that answers every call after a fixed latency.
 * Many small objects across many tenants, each tenant's objects from 5 clusters. Compared with
 * one object at a time, one call at a time (the seeds' design: a worker with one slot).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { SqsQueue } from "../functions/distributor/adapters/sqs-queue";
import { makeHandler } from "../functions/distributor/intake/handler";
import { DEFAULT_CONCURRENCY, SqsWorker } from "../functions/distributor/intake/worker";
import type { LogLevel, MetricDatum, Telemetry } from "../functions/distributor/ports";
import { loadSettings } from "../functions/distributor/settings";
import { createDistributor } from "../functions/distributor/wiring";
import type { Scenario } from "./fake-aws";

export interface E2eOptions {
  readonly latencyMs: number;
  readonly tenants: number;
  readonly objectsPerCluster: number;
  readonly eventsPerObject: number;
  readonly concurrency: number;
  /** Objects in the sequential run (it is slow by design). */
  readonly sequentialObjects: number;
}

export const CLUSTERS = 5;
const BUCKET = "bench-staging";
const SQS_OPS = new Set([
  "ReceiveMessage",
  "DeleteMessage",
  "ChangeMessageVisibility",
  "ChangeMessageVisibilityBatch",
  "GetQueueAttributes",
]);

export class QuietTelemetry implements Telemetry {
  errors: string[] = [];
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (level === "error") this.errors.push(`${message} ${JSON.stringify(fields).slice(0, 300)}`);
  }
  metrics(_d: Record<string, string>, _m: MetricDatum[]): void {}
}

/** A tenant with one CloudWatch destination in its own account (the `t`-th account). */
export function benchTenant(tenant: string, t: number): Scenario["tenants"][string] {
  const account = String(100000000000 + t);
  return {
    accounts: [account],
    configs: [
      {
        tenant_id: tenant,
        type: "cloudwatch",
        log_distribution_role_arn: `arn:aws:iam::${account}:role/logrelay/LogDistribution`,
        external_id: `ext-${tenant}-0001`,
        log_group_name: `/logrelay/${tenant}`,
      },
    ],
  };
}

/** The `n`-th staged object of a tenant's cluster `c`: its key, gzipped body and S3 notification. */
export function stagedObject(tenant: string, c: number, n: number, eventsPerObject: number, now: number) {
  const key = `${tenant}/cluster-${c}/payment-service/payment-${c}-abcde/${1763632800 + n}-${n}.log.gz`;
  const lines = Array.from({ length: eventsPerObject }, (_, j) =>
    JSON.stringify({
      message: `${new Date(now - 60_000 + j).toISOString()} INFO payment-service request ${n}-${j} served in ${j % 97} ms path=/api/v1/orders/${j}`,
      timestamp: new Date(now - 60_000 + j).toISOString(),
    }),
  );
  const body = gzipSync(`${lines.join("\n")}\n`);
  const message = JSON.stringify({
    Records: [
      {
        eventSource: "aws:s3",
        eventName: "ObjectCreated:Put",
        eventTime: new Date(now - 1000).toISOString(),
        // S3 notifications carry the ETag: the ledger names the version without a HEAD.
        s3: {
          bucket: { name: BUCKET },
          object: { key, size: body.length, eTag: createHash("md5").update(body).digest("hex") },
        },
      },
    ],
  });
  return { key, body: body.toString("base64"), message };
}

function scenario(o: E2eOptions, limit?: number): Scenario {
  const objects: Record<string, string> = {};
  const messages: string[] = [];
  const tenants: Scenario["tenants"] = {};
  const now = Date.now();
  const name = (t: number) => `tenant-${String(t).padStart(4, "0")}`;
  for (let t = 0; t < o.tenants; t++) tenants[name(t)] = benchTenant(name(t), t);
  // Interleaved: object i of every tenant's cluster c before object i+1, as a busy queue holds them.
  for (let i = 0; i < o.objectsPerCluster; i++)
    for (let c = 0; c < CLUSTERS; c++)
      for (let t = 0; t < o.tenants; t++) {
        if (limit !== undefined && messages.length >= limit) break;
        const staged = stagedObject(name(t), c, messages.length, o.eventsPerObject, now);
        objects[staged.key] = staged.body;
        messages.push(staged.message);
      }
  return { bucket: BUCKET, objects, messages, tenants };
}

export async function startServer(
  s: Scenario,
  latencyMs: number,
): Promise<{ url: string; child: ChildProcess }> {
  const dir = join(__dirname, "..", "build", "bench");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `e2e-scenario-${process.pid}-${s.messages.length}.json`);
  writeFileSync(file, JSON.stringify(s));
  const child = spawn(
    join(__dirname, "..", "node_modules", ".bin", "tsx"),
    [join(__dirname, "fake-aws.ts"), "--scenario", file, "--latency", String(latencyMs)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      const m = /listening (\S+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`fake AWS endpoint exited with ${code}`)));
  });
  return { url, child };
}

export function pointAt(url: string): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
  });
}

export const benchSettings = () =>
  loadSettings({
    ...process.env,
    TENANT_CONFIG_TABLE: "bench-configs",
    TENANT_REGISTRY_TABLE: "bench-registry",
    DELIVERY_LEDGER_TABLE: "bench-ledger",
    STAGING_BUCKETS: BUCKET,
    CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: "arn:aws:iam::123456789012:role/logrelay/central",
  });

async function run(s: Scenario, latencyMs: number, concurrency: number) {
  const { url, child } = await startServer(s, latencyMs);
  try {
    pointAt(url);
    const telemetry = new QuietTelemetry();
    const { engine } = createDistributor(benchSettings(), telemetry);
    const worker = new SqsWorker(
      engine,
      new SqsQueue(new SQSClient({ region: "us-east-1" }), `${url}/123456789012/bench-delivery`),
      telemetry,
      {
        untilEmpty: true,
        waitSeconds: 0,
        visibilitySeconds: 300,
        concurrency,
        ...(concurrency === 1 && { maxMessages: 1 }),
      },
    );
    const cpu = process.cpuUsage();
    const started = performance.now();
    const stats = await worker.run(new AbortController().signal);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const remote = (await (await fetch(`${url}/__stats`)).json()) as {
      calls: Record<string, number>;
      failed: Record<string, number>;
      roles: string[];
      events: number;
    };
    if (stats.delivered !== s.messages.length)
      throw new Error(
        `delivered ${stats.delivered} of ${s.messages.length}: ${telemetry.errors.slice(0, 3).join("; ")}`,
      );
    const outsideSqs = (counts: Record<string, number>) =>
      Object.entries(counts)
        .filter(([op]) => !SQS_OPS.has(op))
        .reduce((sum, [, n]) => sum + n, 0);
    const awsCalls = outsideSqs(remote.calls);
    return {
      seconds,
      objects: stats.delivered,
      events: remote.events,
      cpu: (used.user + used.system) / 1e6 / seconds,
      calls: remote.calls,
      awsCalls,
      failedCalls: outsideSqs(remote.failed),
      failed: remote.failed,
      assumeRole: remote.calls.AssumeRole ?? 0,
      roles: remote.roles.length,
    };
  } finally {
    child.kill();
  }
}

export async function e2eBench(o: E2eOptions) {
  const full = scenario(o);
  const e2e = await run(full, o.latencyMs, o.concurrency);
  const seq = await run(scenario(o, o.sequentialObjects), o.latencyMs, 1);
  const e2eRate = e2e.objects / e2e.seconds;
  const seqRate = seq.objects / seq.seconds;
  return {
    e2e_objects: e2e.objects,
    e2e_tenants: o.tenants,
    e2e_clusters_per_tenant: CLUSTERS,
    e2e_latency_ms: o.latencyMs,
    e2e_concurrency: o.concurrency,
    e2e_objects_per_s: Number(e2eRate.toFixed(1)),
    e2e_events_per_s: Math.round(e2e.events / e2e.seconds),
    sequential_objects_per_s: Number(seqRate.toFixed(2)),
    e2e_speedup: Number((e2eRate / seqRate).toFixed(1)),
    cpu_utilisation: Number(e2e.cpu.toFixed(2)),
    assume_role_calls: e2e.assumeRole,
    distinct_roles: e2e.roles,
    aws_calls_per_object: Number((e2e.awsCalls / e2e.objects).toFixed(2)),
    aws_calls: e2e.calls,
    aws_calls_failed_share: Number((e2e.failedCalls / e2e.awsCalls).toFixed(4)),
    aws_calls_failed: e2e.failed,
  };
}

export const E2E_DEFAULTS: E2eOptions = {
  latencyMs: 30,
  tenants: 50,
  objectsPerCluster: 2,
  eventsPerObject: 200,
  concurrency: DEFAULT_CONCURRENCY,
  sequentialObjects: 60,
};

/**
 * The Lambda handler as the SQS event source mapping calls it: one warm function instance (its
 * clients, caches and STS sessions kept between invocations) takes the scenario's messages in
 * batches of `batchSize`, one invocation after another. Per batch size: the invocation's duration,
 * objects per second of one instance, and the duration billed per 1,000 objects.
 */
export async function lambdaBatchSweep(o: E2eOptions, batchSizes: readonly number[]) {
  const s = scenario(o);
  const { url, child } = await startServer(s, o.latencyMs);
  try {
    pointAt(url);
    const results = [];
    for (const batchSize of batchSizes) {
      // A fresh instance per size: its first invocation pays the cold caches, as a new one would.
      const { engine } = createDistributor(benchSettings(), new QuietTelemetry());
      const handler = makeHandler(engine);
      const context = { getRemainingTimeInMillis: () => 300_000 } as Context;
      let failures = 0;
      const durations: number[] = [];
      const started = performance.now();
      for (let i = 0; i < s.messages.length; i += batchSize) {
        const records = s.messages
          .slice(i, i + batchSize)
          .map(
            (body, j) =>
              ({ messageId: `m-${batchSize}-${i + j}`, receiptHandle: `r-${i + j}`, body }) as SQSRecord,
          );
        const t = performance.now();
        const response = await handler({ Records: records }, context);
        durations.push(performance.now() - t);
        failures += response.batchItemFailures.length;
      }
      const seconds = (performance.now() - started) / 1000;
      const sorted = [...durations].sort((a, b) => a - b);
      results.push({
        batch_size: batchSize,
        invocations: durations.length,
        failures,
        median_invocation_ms: Math.round(sorted[Math.floor(sorted.length / 2)]!),
        objects_per_s_per_instance: Number((s.messages.length / seconds).toFixed(1)),
        billed_seconds_per_1000_objects: Number(((seconds / s.messages.length) * 1000).toFixed(1)),
      });
    }
    return results;
  } finally {
    child.kill();
  }
}
