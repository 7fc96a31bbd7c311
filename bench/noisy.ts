/**
 * Fairness under a flood: one tenant's 2,000 objects are in the queue when the worker starts, and
 * 20 quiet tenants send 5 objects each while the flood drains (one every 100 ms from the 2nd
 * second). The real worker, engine and adapters against the fake AWS endpoint (its latency per
 * call, its queue with visibility timeouts and receive counts). Dwell is the time from a message's
 * send to the worker's result for it (its last batch accepted and the ledger settled).
 *
 * Each round runs the quiet load alone, the flood with isolation, and the flood without it (one
 * object at a time in queue order, every slot to whoever is first); figures are medians of rounds.
 */

import { SQSClient } from "@aws-sdk/client-sqs";
import { SqsQueue } from "../functions/distributor/adapters/sqs-queue";
import { SqsWorker, type WorkerOptions } from "../functions/distributor/intake/worker";
import { createDistributor } from "../functions/distributor/wiring";
import {
  benchSettings,
  benchTenant,
  CLUSTERS,
  pointAt,
  QuietTelemetry,
  stagedObject,
  startServer,
} from "./e2e";
import type { Scenario } from "./fake-aws";

export interface NoisyOptions {
  readonly latencyMs: number;
  readonly concurrency: number;
  readonly floodObjects: number;
  readonly quietTenants: number;
  readonly quietObjects: number;
  readonly eventsPerObject: number;
  /** When the first quiet object is sent, and the time between two. */
  readonly quietStartMs: number;
  readonly quietEveryMs: number;
  readonly rounds: number;
}

export const NOISY_DEFAULTS: NoisyOptions = {
  latencyMs: 30,
  concurrency: 32,
  floodObjects: 2000,
  quietTenants: 20,
  quietObjects: 5,
  eventsPerObject: 200,
  quietStartMs: 2000,
  quietEveryMs: 100,
  rounds: 3,
};

const FLOOD = "flood-0000";

/** The flood's notifications (queued before the worker starts) and the quiet ones (sent later). */
function noisyScenario(o: NoisyOptions, withFlood: boolean) {
  const now = Date.now();
  const objects: Record<string, string> = {};
  const tenants: Scenario["tenants"] = { [FLOOD]: benchTenant(FLOOD, 0) };
  const flood: string[] = [];
  if (withFlood)
    for (let n = 0; n < o.floodObjects; n++) {
      const staged = stagedObject(FLOOD, n % CLUSTERS, n, o.eventsPerObject, now);
      objects[staged.key] = staged.body;
      flood.push(staged.message);
    }
  const quiet: string[] = [];
  // Round robin: each quiet tenant's objects are spread over the sending window.
  for (let i = 0; i < o.quietObjects; i++)
    for (let t = 1; t <= o.quietTenants; t++) {
      const tenant = `quiet-${String(t).padStart(4, "0")}`;
      tenants[tenant] ??= benchTenant(tenant, t);
      const staged = stagedObject(tenant, i % CLUSTERS, i, o.eventsPerObject, now);
      objects[staged.key] = staged.body;
      quiet.push(staged.message);
    }
  return { scenario: { bucket: "bench-staging", objects, messages: flood, tenants }, quiet };
}

export interface NoisyRun {
  readonly quietP99DwellS: number;
  readonly quietP50DwellS: number;
  /** Worker start to the flood's last object settled (0 without a flood). */
  readonly floodDrainS: number;
  readonly objectsPerS: number;
  readonly deferred: number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

async function runOnce(o: NoisyOptions, withFlood: boolean, isolation: boolean): Promise<NoisyRun> {
  const { scenario, quiet } = noisyScenario(o, withFlood);
  const { url, child } = await startServer(scenario, o.latencyMs);
  try {
    pointAt(url);
    const telemetry = new QuietTelemetry();
    const { engine } = createDistributor(benchSettings(), telemetry);
    const expected = scenario.messages.length + quiet.length;
    const sentAt = new Map<string, number>();
    const dwell: number[] = [];
    let floodDone = 0;
    let floodDrainMs = 0;
    let settled = 0;
    const failures: string[] = [];
    const stop = new AbortController();
    const started = performance.now();
    const options: WorkerOptions = {
      waitSeconds: 1,
      visibilitySeconds: 300,
      concurrency: o.concurrency,
      isolation,
      onResult: (result, message) => {
        if (result.status !== "delivered") failures.push(`${message.messageId}: ${result.status}`);
        const at = performance.now();
        const sent = sentAt.get(message.messageId);
        if (sent !== undefined) dwell.push((at - sent) / 1000);
        else if (++floodDone === scenario.messages.length) floodDrainMs = at - started;
        if (++settled === expected) stop.abort();
      },
    };
    const queueUrl = `${url}/123456789012/bench-delivery`;
    const worker = new SqsWorker(engine, new SqsQueue(new SQSClient({}), queueUrl), telemetry, options);
    const running = worker.run(stop.signal);
    for (let i = 0; i < quiet.length; i++) {
      const due = started + o.quietStartMs + i * o.quietEveryMs;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      const at = performance.now();
      const reply = await fetch(`${url}/__send`, { method: "POST", body: JSON.stringify([quiet[i]]) });
      const { ids } = (await reply.json()) as { ids: string[] };
      sentAt.set(ids[0]!, at);
    }
    const stats = await running;
    if (settled !== expected || failures.length > 0)
      throw new Error(
        `settled ${settled} of ${expected}, not delivered ${failures.length}: ${[...failures, ...telemetry.errors].slice(0, 3).join("; ")}`,
      );
    const seconds = (performance.now() - started) / 1000;
    return {
      quietP99DwellS: percentile(dwell, 99),
      quietP50DwellS: percentile(dwell, 50),
      floodDrainS: floodDrainMs / 1000,
      objectsPerS: expected / seconds,
      deferred: stats.deferred,
    };
  } finally {
    child.kill();
  }
}

const median = (values: number[]) => percentile(values, 50);
const round2 = (n: number) => Number(n.toFixed(2));

/** Rounds of alone / flood with isolation / flood without; the JSON figures of the fairness goals. */
export async function noisyBench(o: NoisyOptions, log: (line: string) => void) {
  const alone: NoisyRun[] = [];
  const on: NoisyRun[] = [];
  const off: NoisyRun[] = [];
  for (let r = 0; r < o.rounds; r++) {
    for (const [runs, withFlood, isolation, what] of [
      [alone, false, true, "quiet alone"],
      [on, true, true, "flood, isolation on"],
      [off, true, false, "flood, isolation off"],
    ] as const) {
      const run = await runOnce(o, withFlood, isolation);
      runs.push(run);
      log(
        `round ${r + 1} ${what}: quiet dwell p50 ${run.quietP50DwellS.toFixed(2)} s, p99 ${run.quietP99DwellS.toFixed(2)} s; ` +
          `flood drained in ${run.floodDrainS.toFixed(1)} s; ${run.objectsPerS.toFixed(1)} objects/s; deferred ${run.deferred}`,
      );
    }
  }
  const pick = (runs: NoisyRun[], f: (r: NoisyRun) => number) => round2(median(runs.map(f)));
  return {
    noisy_rounds: o.rounds,
    noisy_flood_objects: o.floodObjects,
    noisy_quiet_objects: o.quietTenants * o.quietObjects,
    noisy_latency_ms: o.latencyMs,
    noisy_concurrency: o.concurrency,
    quiet_p99_dwell_s: pick(on, (r) => r.quietP99DwellS),
    quiet_p99_dwell_alone_s: pick(alone, (r) => r.quietP99DwellS),
    flood_drain_s: pick(on, (r) => r.floodDrainS),
    throughput_ratio: round2(median(on.map((r, i) => r.objectsPerS / off[i]!.objectsPerS))),
    quiet_p99_dwell_without_isolation_s: pick(off, (r) => r.quietP99DwellS),
    flood_drain_without_isolation_s: pick(off, (r) => r.floodDrainS),
    deferred: pick(on, (r) => r.deferred),
  };
}
