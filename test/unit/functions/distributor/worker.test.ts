import { gzipSync } from "node:zlib";
import type { QueueMessage, QueuePort } from "../../../../functions/distributor/ports";
import { QueueUnusableError, SqsWorker } from "../../../../functions/distributor/worker";
import { s3Event } from "../../../harness/factories";
import { cwConfig, fakeWorld } from "../../../harness/fakes";

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

    const stats = await new SqsWorker(w.engine, queue, w.telemetry, { untilEmpty: true }).run(
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
});
