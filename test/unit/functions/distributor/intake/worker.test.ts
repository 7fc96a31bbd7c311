import { gzipSync } from "node:zlib";
import { QueueUnusableError, SqsWorker } from "../../../../../functions/distributor/intake/worker";
import type { QueueMessage, QueuePort } from "../../../../../functions/distributor/ports";
import { s3Event } from "../../../../harness/factories";
import { cwConfig, fakeWorld } from "../../../../harness/fakes";

class FakeQueue implements QueuePort {
  readonly deleted: string[] = [];
  readonly extended: string[] = [];
  readonly released: string[] = [];
  constructor(private batches: QueueMessage[][]) {}
  receive = async (options: { signal: AbortSignal }) => {
    const next = this.batches.shift();
    if (next) return next;
    // Long poll: wait until aborted.
    await new Promise<void>((resolve) =>
      options.signal.addEventListener("abort", () => resolve(), { once: true }),
    );
    return [];
  };
  delete = async (handle: string) => void this.deleted.push(handle);
  extendVisibility = async (handle: string, seconds: number) =>
    void (seconds === 0 ? this.released : this.extended).push(handle);
}

const msg = (id: string, body: string): QueueMessage => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body,
  receiveCount: 1,
});

describe("SqsWorker", () => {
  it("deletes settled messages, leaves transient failures for SQS, and stops when the queue is empty", async () => {
    const w = fakeWorld({ messageBudgetMs: 5_000 });
    w.objects.objects.set("central/acme/c/app/pod/1.gz", gzipSync('{"message":"x"}\n'));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.configs.items.set("flaky", [cwConfig("flaky", "222222222222")]);
    w.logs.down.set("222222222222", Object.assign(new Error("down"), { name: "InternalFailure" }));
    const queue = new FakeQueue([
      [msg("flaky", JSON.stringify(s3Event("central", "flaky/c/app/pod/1.gz"))), msg("bad", "garbage")],
      [msg("good", JSON.stringify(s3Event("central", "acme/c/app/pod/1.gz")))],
      [],
    ]);
    w.objects.objects.set("central/flaky/c/app/pod/1.gz", gzipSync('{"message":"y"}\n'));

    // One at a time: the fake clock is shared, so flaky's backoff would spend good's time budget.
    const stats = await new SqsWorker(w.engine, queue, w.telemetry, { untilEmpty: true, concurrency: 1 }).run(
      new AbortController().signal,
    );

    expect(queue.deleted.sort()).toEqual(["rh-bad", "rh-good"]);
    expect(stats).toEqual({
      received: 3,
      acknowledged: 2,
      retried: 1,
      delivered: 1,
      parked: 0,
      failedPermanent: 1,
      deferred: 0,
    });
  });

  it("calls onCycle after every receive, empty or not (liveness heartbeat)", async () => {
    const w = fakeWorld();
    const queue = new FakeQueue([[msg("bad", "garbage")], [], []]);
    let cycles = 0;

    await new SqsWorker(w.engine, queue, w.telemetry, { untilEmpty: true, onCycle: () => cycles++ }).run(
      new AbortController().signal,
    );

    expect(cycles).toBe(2);
    expect(queue.deleted).toEqual(["rh-bad"]);
  });

  it("extends visibility while a long delivery runs", async () => {
    const w = fakeWorld();
    const queue = new FakeQueue([[msg("slow", "{}")], []]);
    const slowEngine = {
      newDeadline: () => w.engine.newDeadline(),
      processMessage: async () => {
        await new Promise((r) => setTimeout(r, 2300));
        return { status: "delivered" as const, objects: [], ignored: [] };
      },
    };

    await new SqsWorker(slowEngine as never, queue, w.telemetry, {
      untilEmpty: true,
      visibilitySeconds: 3,
    }).run(new AbortController().signal);

    expect(queue.extended.length).toBeGreaterThanOrEqual(2);
    expect(queue.deleted).toEqual(["rh-slow"]);
  });

  it("stops receiving when aborted and returns after the messages in hand", async () => {
    const w = fakeWorld();
    const queue = new FakeQueue([]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    const stats = await new SqsWorker(w.engine, queue, w.telemetry).run(controller.signal);

    expect(stats.received).toBe(0);
    expect(w.telemetry.lines.at(-1)).toMatchObject({ message: "worker stopped", fields: { aborted: true } });
  });

  it("on abort, a delivery still in hand stops at the grace deadline and its message is released at once", async () => {
    const w = fakeWorld({ messageBudgetMs: 3_600_000 });
    w.objects.objects.set("central/acme/c/app/pod/1.gz", gzipSync('{"message":"x"}\n'));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.logs.down.set("111111111111", Object.assign(new Error("slow"), { name: "ThrottlingException" }));
    const stop = new AbortController();
    let puts = 0;
    w.logs.onPut = () => {
      if (++puts === 3) stop.abort();
    };
    const queue = new FakeQueue([[msg("slow", JSON.stringify(s3Event("central", "acme/c/app/pod/1.gz")))]]);

    const stats = await new SqsWorker(w.engine, queue, w.telemetry, { shutdownGraceSeconds: 30 }).run(
      stop.signal,
    );

    expect(stats).toMatchObject({ received: 1, retried: 1, acknowledged: 0 });
    expect(queue.released).toEqual(["rh-slow"]);
    expect(queue.deleted).toEqual([]);
    // Without the abort the hour-long budget would keep it retrying; the grace cut it to 30 s.
    const waited = w.sleeps.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThan(25_000);
    expect(waited).toBeLessThanOrEqual(30_000);
  });

  it("a queue that cannot be used ends the run with QueueUnusableError instead of retrying forever", async () => {
    const w = fakeWorld();
    const queue = new FakeQueue([]);
    queue.receive = async () => {
      throw Object.assign(new Error("The specified queue does not exist."), { name: "QueueDoesNotExist" });
    };

    await expect(
      new SqsWorker(w.engine, queue, w.telemetry).run(new AbortController().signal),
    ).rejects.toThrow(QueueUnusableError);
  });

  describe("continuous: slots, not batches", () => {
    /** An engine whose deliveries finish when the test says; records what is in flight. */
    function gatedEngine() {
      const w = fakeWorld();
      const gates = new Map<string, () => void>();
      const state = {
        inFlight: 0,
        max: 0,
        started: [] as string[],
        perTenant: new Map<string, number>(),
        maxPerTenant: 0,
      };
      const engine = {
        newDeadline: () => w.engine.newDeadline(),
        processMessage: async ({ body }: { body: string }) => {
          const key = JSON.parse(body).Records[0].s3.object.key as string;
          const tenant = key.split("/")[0]!;
          state.started.push(key);
          state.inFlight++;
          state.max = Math.max(state.max, state.inFlight);
          state.perTenant.set(tenant, (state.perTenant.get(tenant) ?? 0) + 1);
          state.maxPerTenant = Math.max(state.maxPerTenant, state.perTenant.get(tenant)!);
          await new Promise<void>((resolve) =>
            key.includes("slow") ? gates.set(key, resolve) : setTimeout(resolve, 5),
          );
          state.inFlight--;
          state.perTenant.set(tenant, state.perTenant.get(tenant)! - 1);
          return { status: "delivered" as const, objects: [], ignored: [] };
        },
      };
      return { w, engine: engine as never, gates, state };
    }
    const note = (tenant: string, i: number, slow = false) =>
      msg(
        `${tenant}-${i}`,
        JSON.stringify(s3Event("central", `${tenant}/c/app/pod/${slow ? "slow-" : ""}${i}.gz`)),
      );

    it("one slow object stalls nothing: the others are received and finished around it", async () => {
      const { w, engine, gates, state } = gatedEngine();
      const batches = [[note("big", 0, true), ...Array.from({ length: 9 }, (_, i) => note(`t0x${i}`, i))]];
      for (let b = 1; b < 5; b++) batches.push(Array.from({ length: 10 }, (_, i) => note(`t${b}x${i}`, i)));
      const queue = new FakeQueue([...batches, []]);
      const done = new SqsWorker(engine, queue, w.telemetry, { untilEmpty: true, concurrency: 8 }).run(
        new AbortController().signal,
      );
      // Everything but the slow object settles while it is still in flight.
      while (queue.deleted.length < 49) await new Promise((r) => setTimeout(r, 5));
      expect(queue.deleted).not.toContain("rh-big-0");
      gates.get("big/c/app/pod/slow-0.gz")!();
      const stats = await done;

      expect(stats).toMatchObject({ received: 50, acknowledged: 50 });
      expect(state.max).toBe(8);
    });

    it("caps one tenant's messages in flight, so a flood from one tenant does not starve the others", async () => {
      const { w, engine, gates, state } = gatedEngine();
      const flood = Array.from({ length: 10 }, (_, i) => note("flood", i, true));
      const queue = new FakeQueue([flood, [note("small", 0), note("small", 1)], []]);
      const done = new SqsWorker(engine, queue, w.telemetry, {
        untilEmpty: true,
        concurrency: 8,
        perTenantConcurrency: 2,
      }).run(new AbortController().signal);

      while (queue.deleted.length < 2) await new Promise((r) => setTimeout(r, 5));
      expect(queue.deleted.sort()).toEqual(["rh-small-0", "rh-small-1"]);
      expect(state.maxPerTenant).toBe(2);
      // 2 running, 2 waiting; the other 6 went back to the queue unopened for others to pass.
      expect(queue.extended.sort()).toEqual([
        "rh-flood-4",
        "rh-flood-5",
        "rh-flood-6",
        "rh-flood-7",
        "rh-flood-8",
        "rh-flood-9",
      ]);
      for (let round = 0; gates.size > 0 && round < 20; round++) {
        for (const [k, open] of gates) {
          gates.delete(k);
          open();
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(await done).toMatchObject({ received: 6, acknowledged: 6, deferred: 6 });
      expect(state.maxPerTenant).toBe(2);
    });

    it("on shutdown, messages not started go back to the queue at once", async () => {
      const { w, engine, gates } = gatedEngine();
      const queue = new FakeQueue([Array.from({ length: 6 }, (_, i) => note("one", i, true))]);
      const stop = new AbortController();
      const done = new SqsWorker(engine, queue, w.telemetry, {
        concurrency: 4,
        perTenantConcurrency: 2,
        shutdownGraceSeconds: 1,
      }).run(stop.signal);
      while (gates.size < 2) await new Promise((r) => setTimeout(r, 5));
      stop.abort();
      await new Promise((r) => setTimeout(r, 5));
      // The 2 waiting behind the tenant cap are released without being started (2 more were deferred).
      expect(queue.released.sort()).toEqual(["rh-one-2", "rh-one-3"]);
      expect(queue.extended.sort()).toEqual(["rh-one-4", "rh-one-5"]);
      for (const open of gates.values()) open();
      expect(await done).toMatchObject({ received: 4, acknowledged: 2, retried: 2, deferred: 2 });
    });
  });
});
