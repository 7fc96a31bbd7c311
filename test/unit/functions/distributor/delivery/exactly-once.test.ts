import { createHash } from "node:crypto";
import { s3Event } from "../../../../harness/factories";
import { BUCKET, cwConfig, fakeWorld, KEY, NOW, ndjson, s3Config } from "../../../../harness/fakes";

describe("DeliveryEngine: claims and checkpoints", () => {
  const big = () => ndjson(25_000, NOW - 60_000, 200); // about 6 batches of 1 MiB
  const messages = (w: ReturnType<typeof fakeWorld>) =>
    w.logs.batches.flatMap((b) => b.events.map((e) => e.message));
  const unique = (list: string[]) => new Set(list).size;

  it("three copies of one notification at once: one delivers, the others are left for retry, then settle", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, big());
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));

    const first = await Promise.all([1, 2, 3].map(() => w.engine.processMessage(body)));
    const later = await w.engine.processMessage(body);

    const statuses = first.map((r) => r.objects[0]!.destinations[0]!.status).sort();
    expect(statuses).toEqual(["delivered", "in_progress_elsewhere", "in_progress_elsewhere"]);
    expect(first.filter((r) => r.status === "failed_transient")).toHaveLength(2);
    expect(later.objects[0]!.destinations[0]!.status).toBe("already_delivered");
    expect(messages(w)).toHaveLength(25_000);
    expect(unique(messages(w))).toBe(25_000);
  });

  it("an outage mid-object checkpoints what was accepted; the next attempt resumes and sends nothing twice", async () => {
    const w = fakeWorld({ messageBudgetMs: 20_000 });
    w.objects.objects.set(`${BUCKET}/${KEY}`, big());
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    let puts = 0;
    w.logs.onPut = () => {
      if (++puts === 3)
        w.logs.down.set("111111111111", Object.assign(new Error("x"), { name: "ThrottlingException" }));
    };
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));

    const first = await w.engine.processMessage(body);
    w.logs.down.clear();
    const second = await w.engine.processMessage(body);

    expect(first.status).toBe("failed_transient");
    expect(first.objects[0]!.destinations[0]).toMatchObject({
      batches: 2,
      eventsDelivered: expect.any(Number),
    });
    const resumed = second.objects[0]!.destinations[0]!;
    expect(resumed).toMatchObject({ status: "delivered", eventsDelivered: 25_000 });
    expect(resumed.resumedFrom?.batches).toBe(2);
    expect(messages(w)).toHaveLength(25_000);
    expect(unique(messages(w))).toBe(25_000);
    // Metrics count each event once across the two attempts.
    expect(w.telemetry.total("EventsDelivered", { tenant_id: "acme" })).toBe(25_000);
  });

  it("an expired claim (crashed owner) is taken over and resumes from its checkpoint", async () => {
    const w = fakeWorld({ claimLeaseMs: 10_000 });
    w.objects.objects.set(`${BUCKET}/${KEY}`, big());
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));
    await w.engine.processMessage(body);
    // Make the finished entry look like a crash after batch 2: in progress, owned by a dead worker.
    const [id, entry] = [...w.ledger.entries][0]!;
    const sentBefore = w.logs.batches.slice(0, 2).reduce((n, b) => n + b.events.length, 0);
    w.ledger.entries.set(id, {
      state: "in_progress",
      owner: "dead-worker",
      leaseUntil: w.clock.now + 10_000,
      checkpoint: { ...entry.checkpoint!, batches: 2, position: sentBefore, eventsDelivered: sentBefore },
    });
    w.logs.batches.splice(2);

    const blocked = await w.engine.processMessage(body);
    w.clock.now += 10_001;
    const takenOver = await w.engine.processMessage(body);

    expect(blocked.objects[0]!.destinations[0]!.status).toBe("in_progress_elsewhere");
    expect(blocked.objects[0]!.reason).toMatch(/ClaimedElsewhereError: claimed by dead-worker until/);
    expect(takenOver.objects[0]!.destinations[0]).toMatchObject({
      status: "delivered",
      eventsDelivered: 25_000,
    });
    expect(messages(w)).toHaveLength(25_000);
    expect(unique(messages(w))).toBe(25_000);
  });

  it("a claim lost to another owner stops the destination before its next send", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, big());
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    let puts = 0;
    w.logs.onPut = () => {
      if (++puts !== 2) return;
      for (const entry of w.ledger.entries.values()) entry.owner = "someone-else";
    };

    const result = await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" })));

    expect(result.status).toBe("failed_transient");
    expect(result.objects[0]!.reason).toMatch(/ClaimLostError/);
    expect(w.logs.batches).toHaveLength(2);
  });

  it("an S3 copy repeated (no ledger entry left) lands on the same key with the same bytes: idempotent", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(5));
    w.configs.items.set("acme", [s3Config("acme", "222222222222")]);
    const body = JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" }));

    await w.engine.processMessage(body);
    w.ledger.entries.clear();
    await w.engine.processMessage(body);

    expect(w.writer.puts).toHaveLength(2);
    expect(w.writer.puts[1]!.request.key).toBe(w.writer.puts[0]!.request.key);
    expect(w.writer.puts[1]!.body.equals(w.writer.puts[0]!.body)).toBe(true);
  });

  it("a single-batch object costs two ledger writes: the claim and the completion", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY, { eTag: "v1" })));

    // The last batch's checkpoint is the completion itself.
    expect(w.ledger.writes).toBe(2);
  });
});

describe("DeliveryEngine ledger identity", () => {
  it("a manual run, a redriven notification and a replay of one object version share one ledger entry", async () => {
    const w = fakeWorld();
    const body = ndjson(2);
    w.objects.objects.set(`${BUCKET}/${KEY}`, body);
    w.configs.items.set("acme", [cwConfig("acme", "111111111111"), s3Config("acme", "111111111111")]);
    const eTag = createHash("md5").update(body).digest("hex");

    const manual = await w.engine.deliverObject({ bucket: BUCKET, key: KEY, eventTime: new Date(NOW) });
    const notified = await w.engine.processMessage(JSON.stringify(s3Event(BUCKET, KEY, { eTag })));

    expect(manual.destinations.map((d) => d.status)).toEqual(["delivered", "delivered"]);
    expect(notified.objects[0]!.destinations.map((d) => d.status)).toEqual([
      "already_delivered",
      "already_delivered",
    ]);
    expect(w.objects.identifies).toBe(1);
    expect(w.logs.batches).toHaveLength(1);
  });
});
