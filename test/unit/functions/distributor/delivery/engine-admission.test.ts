import { s3Event } from "../../../../harness/factories";
import { BUCKET, cwConfig, fakeWorld, KEY, ndjson, notificationOf } from "../../../../harness/fakes";

describe("DeliveryEngine: the staging-bucket allow-list", () => {
  it("refuses an object in another bucket permanently, with the reason, before reading anything", async () => {
    const w = fakeWorld({ stagingBuckets: [BUCKET] });
    w.objects.objects.set(`attacker-bucket/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);

    const result = await w.engine.processMessage(JSON.stringify(s3Event("attacker-bucket", KEY)));

    expect(result.objects[0]).toMatchObject({
      status: "failed_permanent",
      reason: `MalformedMessageError: bucket attacker-bucket is not a staging bucket of this distributor (${BUCKET}): notification refused`,
    });
    expect([w.objects.opens, w.configs.lookups, w.logs.batches.length]).toEqual([0, 0, 0]);
  });
});

describe("DeliveryEngine: the tenant registry decides where logs may go", () => {
  it("refuses a destination in an account the tenant is not registered for: nothing sent, reason names the account", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [
      cwConfig("acme", "999999999999"),
      cwConfig("acme", "111111111111", { log_group_name: "/ok" }),
    ]);
    w.registry.registrations.set("acme", { tenant_id: "acme", accounts: ["111111111111"] });

    const result = await w.engine.processMessage(notificationOf());

    const [refused, delivered] = result.objects[0]!.destinations;
    expect(refused).toMatchObject({
      status: "failed_permanent",
      eventsDelivered: 0,
      reason:
        "NotRegisteredError: account 999999999999 is not registered for tenant acme (registered: 111111111111)",
    });
    expect(delivered!.status).toBe("delivered");
    expect(w.broker.requests.map((r) => r.roleArn)).toEqual([
      "arn:aws:iam::111111111111:role/LogDistribution",
    ]);
    expect(w.logs.eventsIn("999999999999", "/logs/acme")).toEqual([]);
    expect(w.telemetry.total("RegistryRefusals")).toBe(2); // service-wide + per tenant
  });

  it("an unregistered tenant delivers nothing, and says so", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.registry.unregistered.add("acme");

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]).toMatchObject({
      status: "failed_permanent",
      reason: "NotRegisteredError: tenant acme is not registered (logrelay tenants register)",
    });
    expect(w.broker.requests).toEqual([]);
  });

  it("refuses an object from a cluster the tenant does not allow", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(3));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.registry.registrations.set("acme", {
      tenant_id: "acme",
      accounts: ["111111111111"],
      clusters: ["rosa-9"],
    });

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.reason).toBe(
      "NotRegisteredError: cluster cluster-1 may not carry tenant acme's logs (registered clusters: rosa-9)",
    );
    expect(w.logs.batches).toEqual([]);
  });

  it("reads a registration as the API stores it (with updated_at)", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.registry.registrations.set("acme", {
      tenant_id: "acme",
      accounts: ["111111111111"],
      updated_at: "2026-11-28T00:00:00.000Z",
    });

    expect((await w.engine.processMessage(notificationOf())).status).toBe("delivered");
  });

  it("a registration that does not pass the schema counts as none (fail closed)", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`${BUCKET}/${KEY}`, ndjson(1));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.registry.registrations.set("acme", { tenant_id: "acme", accounts: "111111111111" });

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.status).toBe("failed_permanent");
    expect(w.logs.batches).toEqual([]);
  });
});
