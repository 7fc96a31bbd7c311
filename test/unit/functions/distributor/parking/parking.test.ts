import { gzipSync } from "node:zlib";
import { NoLedger } from "../../../../../functions/distributor/adapters/dynamodb";
import {
  CachedRegistry,
  CachedTenantConfigs,
} from "../../../../../functions/distributor/admission/tenant-configs";
import { PUT_LOG_EVENTS_LIMITS } from "../../../../../functions/distributor/delivery/destinations/cloudwatch/batching";
import { DeliveryEngine } from "../../../../../functions/distributor/delivery/engine";
import { DestinationDeniedError } from "../../../../../functions/distributor/errors";
import { s3Event, snsEnvelope } from "../../../../harness/factories";
import { cwConfig, fakeWorld, NOW, s3Config } from "../../../../harness/fakes";

const BUCKET = "logrelay-central";
const ROLE = "arn:aws:iam::111111111111:role/LogDistribution";
const keyOf = (i: number) => `acme/cluster-1/payment-service/payment-1/${1763632800 + i}-u${i}.log.gz`;

type World = ReturnType<typeof fakeWorld>;

/** Stages object i (events `o<i>-e<j>`, object time NOW - 100 s + i s) and returns its notification. */
function stage(w: World, i: number, events = 2): string {
  const lines = Array.from({ length: events }, (_, j) =>
    JSON.stringify({
      message: `o${i}-e${j}`,
      timestamp: new Date(NOW - 100_000 + i * 1000 + j).toISOString(),
    }),
  );
  w.objects.objects.set(`${BUCKET}/${keyOf(i)}`, gzipSync(`${lines.join("\n")}\n`));
  return JSON.stringify(
    snsEnvelope(s3Event(BUCKET, keyOf(i), { eventTime: new Date(NOW - 100_000 + i * 1000) })),
  );
}

const delivered = (w: World) => w.logs.eventsIn("111111111111", "/logs/acme").map((e) => e.message);
const run = (w: World, probe = true) => w.recovery.run({ probe, deadline: w.engine.newDeadline(600_000) });

function world() {
  const w = fakeWorld();
  w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
  return w;
}

describe("parked deliveries", () => {
  it("parks a delivery the customer's role refuses: acknowledged, recorded with reason and time, not dropped", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);

    const result = await w.engine.processMessage(stage(w, 1));

    expect(result.status).toBe("parked");
    expect(result.objects[0]!.destinations[0]).toMatchObject({
      status: "parked",
      reason: expect.stringMatching(/refused AssumeRole/),
    });
    const [parked] = await w.parkingStore.parked({
      tenantId: "acme",
      type: "cloudwatch",
      target: "cloudwatch:us-east-1:111111111111:/logs/acme",
    });
    expect(parked).toMatchObject({
      tenantId: "acme",
      key: keyOf(1),
      reason: expect.stringMatching(/refused AssumeRole/),
      parkedAt: new Date(NOW).toISOString(),
    });
    // A second notification of the same object finds it parked: no second attempt against AWS.
    const again = await w.engine.processMessage(stage(w, 1));
    expect(again.objects[0]!.destinations[0]!.status).toBe("parked");
    expect(w.broker.requests).toHaveLength(1);
  });

  it("never acknowledges a refusal it could not park: the message is retried instead", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);
    w.ledger.park = async () => {
      throw Object.assign(new Error("Invalid UpdateExpression"), { name: "ValidationException" });
    };

    const result = await w.engine.processMessage(stage(w, 1));

    expect(result.status).toBe("failed_transient");
    expect(result.objects[0]!.destinations[0]!.reason).toMatch(/could not be parked: ValidationException/);
  });

  it("parks refusals of the log group (PutLogEvents denied) and of the bucket (deleted, KMS)", async () => {
    const w = world();
    w.configs.items.set("acme", [cwConfig("acme", "111111111111"), s3Config("acme", "333333333333")]);
    w.logs.faults.push(
      new DestinationDeniedError("CloudWatch Logs refused /logs/acme: AccessDeniedException"),
    );
    w.writer.faults.push(new DestinationDeniedError("S3 refused s3://acme-archive/x: NoSuchBucket"));

    const result = await w.engine.processMessage(stage(w, 1));

    expect(result.objects[0]!.destinations.map((d) => d.status)).toEqual(["parked", "parked"]);
    expect(w.ledger.parkedCount()).toBe(2);
  });

  it("keeps the platform's own failures permanent: nothing is parked for them", async () => {
    const w = world();
    // An account the registry does not list for the tenant, and an invalid config item.
    w.configs.items.set("acme", [
      cwConfig("acme", "999999999999"),
      cwConfig("acme", "111111111111", { type: "cloudwatch", log_group_name: "" }),
    ]);
    w.registry.registrations.set("acme", { tenant_id: "acme", accounts: ["111111111111"] });

    const result = await w.engine.processMessage(stage(w, 1));

    expect(result.objects[0]!.destinations.map((d) => d.status).sort()).toEqual([
      "failed_permanent",
      "failed_permanent",
    ]);
    expect(w.ledger.parkedCount()).toBe(0);
  });

  it("without a durable ledger a refusal stays a permanent failure (there is nowhere to park)", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);
    const engine = new DeliveryEngine(
      {
        objects: w.objects,
        configs: new CachedTenantConfigs(w.configs, 0),
        registry: new CachedRegistry(w.registry, 0),
        credentials: w.broker,
        cloudWatchLogs: w.logs.factory,
        firehose: w.firehose.factory,
        objectWriter: w.writer,
        ledger: new NoLedger(),
        telemetry: w.telemetry,
        parking: w.parking,
      },
      { region: "us-east-1", retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
    );
    const result = await engine.processMessage(stage(w, 1));
    expect(result.objects[0]!.destinations[0]!.status).toBe("failed_permanent");
  });

  it("opens the breaker after 3 parks in a row: later objects are parked without calling AWS, one notice", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);

    for (let i = 1; i <= 10; i++) await w.engine.processMessage(stage(w, i));

    expect(w.broker.requests).toHaveLength(3);
    expect(w.ledger.parkedCount()).toBe(10);
    expect(w.notifier.notices).toHaveLength(1);
    expect(w.notifier.notices[0]).toMatchObject({
      subject: "logrelay: acme cloudwatch destination parked",
      attributes: { tenant_id: "acme", destination_type: "cloudwatch", state: "open" },
    });
    expect(w.notifier.notices[0]!.message).toMatch(/parked, not dropped/);
    const [state] = await w.parkingStore.destinations();
    expect(state).toMatchObject({ state: "open", streak: 3 });
  });

  it("a delivery that works resets the streak: parks must be in a row to open the breaker", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);
    await w.engine.processMessage(stage(w, 1));
    await w.engine.processMessage(stage(w, 2));
    w.broker.denyRoles.clear();
    await w.engine.processMessage(stage(w, 3));
    w.broker.denyRoles.add(ROLE);
    await w.engine.processMessage(stage(w, 4));
    await w.engine.processMessage(stage(w, 5));

    const [state] = await w.parkingStore.destinations();
    expect(state).toMatchObject({ state: "closed", streak: 2 });
    expect(w.notifier.notices).toHaveLength(0);
  });

  it("recovers: the probe keeps it parked while the role refuses, then delivers every parked event once, in order", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);
    for (let i = 1; i <= 6; i++) await w.engine.processMessage(stage(w, i));

    const still = await run(w);
    expect(still).toEqual([
      expect.objectContaining({ stateBefore: "open", delivered: 0, stillParked: 6, closed: false }),
    ]);
    expect(still[0]!.probe).toMatchObject({ ok: false });
    expect(delivered(w)).toEqual([]);

    w.broker.denyRoles.clear();
    const recovered = await run(w);

    expect(recovered).toEqual([
      expect.objectContaining({ delivered: 6, lost: 0, stillParked: 0, closed: true }),
    ]);
    expect(delivered(w)).toEqual(
      Array.from({ length: 6 }, (_, i) => [`o${i + 1}-e0`, `o${i + 1}-e1`]).flat(),
    );
    expect(w.notifier.notices.map((n) => n.attributes.state)).toEqual(["open", "closed"]);
    // Exactly once: another run, and a late duplicate notification, deliver nothing more.
    await run(w);
    await w.engine.processMessage(stage(w, 3));
    expect(delivered(w)).toHaveLength(12);
    // Closed again: new objects go straight through.
    await w.engine.processMessage(stage(w, 7));
    expect(delivered(w)).toHaveLength(14);
  });

  it("resumes a parked object after its last acknowledged batch (no event twice)", async () => {
    // Batches of 10 events; the third put is refused (the customer changed the group's policy).
    const w = fakeWorld({ limits: { ...PUT_LOG_EVENTS_LIMITS, maxEvents: 10 } });
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    let puts = 0;
    w.logs.onPut = () => {
      if (++puts === 3)
        throw new DestinationDeniedError("CloudWatch Logs refused /logs/acme: AccessDeniedException");
    };

    const first = await w.engine.processMessage(stage(w, 1, 30));
    expect(first.objects[0]!.destinations[0]).toMatchObject({ status: "parked", eventsDelivered: 20 });

    const [result] = await w.recovery.run({ probe: true, deadline: w.engine.newDeadline(600_000) });
    expect(result).toMatchObject({ delivered: 1 });
    expect(delivered(w)).toEqual(Array.from({ length: 30 }, (_, j) => `o1-e${j}`));
  });

  it("records parked objects whose staging copy expired as lost, with counts and time range, and says so", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);
    for (let i = 1; i <= 5; i++) await w.engine.processMessage(stage(w, i));
    // The bucket's lifecycle expired the two oldest while the role was broken.
    w.objects.objects.delete(`${BUCKET}/${keyOf(1)}`);
    w.objects.objects.delete(`${BUCKET}/${keyOf(2)}`);

    // Still broken: the run finds the expired ones anyway (never silently).
    const [broken] = await run(w);
    expect(broken).toMatchObject({
      delivered: 0,
      lost: 2,
      lostRange: {
        from: new Date(NOW - 99_000).toISOString(),
        to: new Date(NOW - 98_000).toISOString(),
      },
      stillParked: 3,
    });
    const lost = w.notifier.notices.find((n) => n.attributes.state === "lost");
    expect(lost?.message).toMatch(
      /2 parked object\(s\) from .* are lost: .*not found \(expired or deleted\?\)/,
    );
    expect(w.telemetry.total("ObjectsLost", { tenant_id: "acme" })).toBe(2);
    const ref = {
      tenantId: "acme",
      type: "cloudwatch" as const,
      target: "cloudwatch:us-east-1:111111111111:/logs/acme",
    };
    expect((await w.parkingStore.lost(ref)).map((l) => l.key)).toEqual([keyOf(1), keyOf(2)]);

    w.broker.denyRoles.clear();
    const [fixed] = await run(w);
    expect(fixed).toMatchObject({ delivered: 3, lost: 0, closed: true });
    expect(delivered(w)).toEqual(["o3-e0", "o3-e1", "o4-e0", "o4-e1", "o5-e0", "o5-e1"]);
  });

  it("settles parked objects of a destination the tenant removed as lost, naming why", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);
    await w.engine.processMessage(stage(w, 1));
    w.configs.items.set("acme", [s3Config("acme", "333333333333")]);

    const [result] = await run(w);

    expect(result).toMatchObject({ lost: 1, stillParked: 0 });
    expect(w.notifier.notices.at(-1)!.message).toMatch(/no longer in tenant acme's delivery config/);
  });

  it("a retry by hand skips the probe, and parks again at the first refusal (order kept for later)", async () => {
    const w = world();
    w.broker.denyRoles.add(ROLE);
    for (let i = 1; i <= 4; i++) await w.engine.processMessage(stage(w, i));
    const requests = w.broker.requests.length;

    const [result] = await w.recovery.run({
      tenantId: "acme",
      type: "cloudwatch",
      probe: false,
      deadline: w.engine.newDeadline(600_000),
    });

    expect(result).toMatchObject({ delivered: 0, stillParked: 4, closed: false });
    expect(result!.stoppedBecause).toMatch(/refused again/);
    expect(w.broker.requests.length).toBe(requests + 1);
    expect(
      await w.recovery.run({ tenantId: "globex", probe: false, deadline: w.engine.newDeadline(600_000) }),
    ).toEqual([]);
  });
});
