import { gzipSync } from "node:zlib";
import { QueueUnusableError, SqsWorker } from "../../../../../functions/distributor/intake/worker";
import type { QueueMessage, QueuePort } from "../../../../../functions/distributor/ports";
import { s3Event } from "../../../../harness/factories";
import { cwConfig, fakeWorld } from "../../../../harness/fakes";

class FakeQueue implements QueuePort {
  readonly deleted: string[] = [];
  readonly extended: string[] = [];
  readonly released: string[] = [];
  /** Deferrals: receipt handle and seconds. */
  readonly deferred: { receiptHandle: string; seconds: number }[] = [];
  receives = 0;
  /** What depth() reports besides the batches not received yet. */
  inFlightElsewhere = 0;
  /** Out of batches: wait for the abort (a long poll that never ends) instead of answering empty. */
  longPoll = false;
  /** A deferred message comes back in the next receive, one receive older. */
  returnDeferred = false;
  private readonly byHandle = new Map<string, QueueMessage>();

  constructor(private batches: QueueMessage[][]) {}

  receive = async (options: { signal: AbortSignal }) => {
    this.receives++;
    const next = this.batches.shift();
    if (next) {
      for (const m of next) this.byHandle.set(m.receiptHandle, m);
      return next;
    }
    if (this.longPoll)
      await new Promise<void>((resolve) =>
        options.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    return [];
  };
  delete = async (handle: string) => void this.deleted.push(handle);
  extendVisibility = async (handle: string, seconds: number) =>
    void (seconds === 0 ? this.released : this.extended).push(handle);
  setVisibility = async (entries: readonly { receiptHandle: string; seconds: number }[]) => {
    this.deferred.push(...entries);
    if (this.returnDeferred) {
      const back = entries.map((e) => this.byHandle.get(e.receiptHandle)!);
      this.batches.push(
        back.map((m) => ({ ...m, receiptHandle: `${m.receiptHandle}+`, receiveCount: m.receiveCount + 1 })),
      );
    }
    return [];
  };
  depth = async () => ({
    visible: this.batches.reduce((n, b) => n + b.length, 0),
    inFlight: this.inFlightElsewhere,
    delayed: 0,
  });
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

    expect(cycles).toBe(queue.receives);
    expect(cycles).toBeGreaterThanOrEqual(2);
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
    queue.longPoll = true;
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
    queue.longPoll = true;

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

    /** Opens every gate until none is left (the deliveries in hand finish, and those they let start). */
    async function openAll(gates: Map<string, () => void>) {
      for (let round = 0; gates.size > 0 && round < 50; round++) {
        for (const [k, open] of gates) {
          gates.delete(k);
          open();
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    }

    it("a flood alone uses every slot: nothing is held back while no one else waits", async () => {
      const { w, engine, gates, state } = gatedEngine();
      const queue = new FakeQueue([Array.from({ length: 8 }, (_, i) => note("flood", i, true)), []]);
      const done = new SqsWorker(engine, queue, w.telemetry, { untilEmpty: true, concurrency: 8 }).run(
        new AbortController().signal,
      );
      while (gates.size < 8) await new Promise((r) => setTimeout(r, 5));
      expect(state.maxPerTenant).toBe(8);
      await openAll(gates);
      expect(await done).toMatchObject({ received: 8, acknowledged: 8, deferred: 0 });
    });

    it("finds a quiet tenant's messages behind a flood and starts them at the next free slots", async () => {
      const { w, engine, gates, state } = gatedEngine();
      const flood = Array.from({ length: 10 }, (_, i) => note("flood", i, true));
      const queue = new FakeQueue([flood, [note("quiet", 0, true), note("quiet", 1, true)], []]);
      const done = new SqsWorker(engine, queue, w.telemetry, {
        untilEmpty: true,
        concurrency: 4,
        receivers: 1,
      }).run(new AbortController().signal);

      while (queue.deferred.length < 4) await new Promise((r) => setTimeout(r, 5));
      // 4 running, 2 waiting (half the slots before any delivery is timed); the other 4 went back
      // to the queue with a visibility timeout, not retried hot.
      expect(queue.deferred.map((d) => d.receiptHandle).sort()).toEqual([
        "rh-flood-6",
        "rh-flood-7",
        "rh-flood-8",
        "rh-flood-9",
      ]);
      for (const d of queue.deferred) expect(d.seconds).toBeGreaterThanOrEqual(1);
      while (queue.receives < 2) await new Promise((r) => setTimeout(r, 5));
      // The next two slots go to the quiet tenant, ahead of the flood's waiting messages.
      gates.get("flood/c/app/pod/slow-0.gz")!();
      gates.get("flood/c/app/pod/slow-1.gz")!();
      while (state.started.length < 6) await new Promise((r) => setTimeout(r, 5));
      expect(state.started.slice(4)).toEqual(["quiet/c/app/pod/slow-0.gz", "quiet/c/app/pod/slow-1.gz"]);
      await openAll(gates);
      // The deferred ones are this worker's to finish: it waits for them (they never came back here).
      queue.inFlightElsewhere = 4;
      const stats = await done;
      expect(stats).toMatchObject({ received: 8, acknowledged: 8, deferred: 4 });
      expect(stats.left).toEqual({ visible: 0, inFlight: 4, delayed: 0 });
    });

    it("--until-empty waits for the messages it deferred to come back and delivers them", async () => {
      const { w, engine, gates } = gatedEngine();
      const queue = new FakeQueue([Array.from({ length: 10 }, (_, i) => note("flood", i, true))]);
      queue.returnDeferred = true;
      const done = new SqsWorker(engine, queue, w.telemetry, {
        untilEmpty: true,
        concurrency: 2,
        receivers: 1,
      }).run(new AbortController().signal);
      await openAll(gates);
      while (queue.deleted.length < 10) await openAll(gates);

      const stats = await done;
      expect(stats).toMatchObject({ received: 10, acknowledged: 10 });
      expect(stats.deferred).toBeGreaterThan(0);
      expect(stats.left).toBeUndefined();
      // A message is never deferred once that would leave it fewer than 3 receives before the DLQ (5).
      expect(Math.max(...queue.deferred.map((d) => d.receiptHandle.split("+").length))).toBeLessThanOrEqual(
        2,
      );
    });

    it("without isolation, slots go in queue order and nothing is deferred", async () => {
      const { w, engine, gates, state } = gatedEngine();
      const queue = new FakeQueue([
        Array.from({ length: 6 }, (_, i) => note("flood", i, true)),
        [note("quiet", 0, true)],
        [],
      ]);
      const done = new SqsWorker(engine, queue, w.telemetry, {
        untilEmpty: true,
        concurrency: 2,
        isolation: false,
      }).run(new AbortController().signal);
      await openAll(gates);
      while (queue.deleted.length < 7) await openAll(gates);
      expect(await done).toMatchObject({ received: 7, deferred: 0 });
      expect(state.started.at(-1)).toBe("quiet/c/app/pod/slow-0.gz");
    });

    it("on shutdown, messages not started go back to the queue at once", async () => {
      const { w, engine, gates } = gatedEngine();
      const queue = new FakeQueue([Array.from({ length: 6 }, (_, i) => note("one", i, true))]);
      queue.longPoll = true;
      const stop = new AbortController();
      const done = new SqsWorker(engine, queue, w.telemetry, {
        concurrency: 2,
        shutdownGraceSeconds: 1,
        receivers: 1,
      }).run(stop.signal);
      while (gates.size < 2 || queue.deferred.length < 3) await new Promise((r) => setTimeout(r, 5));
      stop.abort();
      await new Promise((r) => setTimeout(r, 5));
      // The one waiting is released without being started; 3 more had been deferred.
      expect(queue.released).toEqual(["rh-one-2"]);
      expect(queue.deferred.map((d) => d.receiptHandle)).toEqual(["rh-one-3", "rh-one-4", "rh-one-5"]);
      for (const open of gates.values()) open();
      expect(await done).toMatchObject({ received: 3, acknowledged: 2, retried: 1, deferred: 3 });
    });
  });
});
