import { gzipSync } from "node:zlib";
import { DescribeLogGroupsCommand, ListTagsLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { GetObjectCommand } from "@aws-sdk/client-s3";
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
  putObject,
  readLogGroup,
  registerTenant,
} from "../harness/aws";
import { ndjsonGz, s3Event, snsEnvelope, vectorEvent } from "../harness/factories";
import { MemoryTelemetry } from "../harness/memory-telemetry";
import { useMoto } from "../harness/moto-suite";

const CENTRAL_BUCKET = "logrelay-central-test";
const CONFIG_TABLE = "logrelay-tenant-configs";
const LEDGER_TABLE = "logrelay-delivery-ledger";
const REGISTRY_TABLE = "logrelay-tenant-registry";
const ACCOUNT_A = "111111111111";
const ACCOUNT_B = "222222222222";
const role = (account: string) => `arn:aws:iam::${account}:role/logrelay/LogDistribution`;

const settings = () =>
  loadSettings(
    distributorEnv(
      { config: CONFIG_TABLE, registry: REGISTRY_TABLE, ledger: LEDGER_TABLE },
      { CONFIG_CACHE_TTL_SECONDS: "0" },
    ),
  );

async function stage(key: string, body: Buffer): Promise<string> {
  const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
  await putObject(s3, CENTRAL_BUCKET, key, body);
  return JSON.stringify(snsEnvelope(s3Event(CENTRAL_BUCKET, key)));
}

const now = new Date();
const events = (tenant: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    vectorEvent(`${tenant} event ${i}`, new Date(now.getTime() - (n - i) * 1000), { tenant_id: tenant }),
  );

describe("distributor against the moto emulator, two customer accounts", () => {
  useMoto();

  beforeAll(async () => {
    await createConfigTable(CONFIG_TABLE);
    await createRegistryTable(REGISTRY_TABLE);
    await registerTenant(REGISTRY_TABLE, "tenant-a", [ACCOUNT_A]);
    await registerTenant(REGISTRY_TABLE, "tenant-b", [ACCOUNT_B]);
    await registerTenant(REGISTRY_TABLE, "tenant-off", [ACCOUNT_B]);
    await registerTenant(REGISTRY_TABLE, "tenant-noconf", [ACCOUNT_B]);
    await createLedgerTable(LEDGER_TABLE);
    await createBucket((await clientsFor(CENTRAL_ACCOUNT)).s3, CENTRAL_BUCKET);
    await createBucket((await clientsFor(ACCOUNT_A)).s3, "tenant-a-archive");
    await putConfig(CONFIG_TABLE, {
      tenant_id: "tenant-a",
      type: "cloudwatch",
      log_distribution_role_arn: role(ACCOUNT_A),
      external_id: "ext-tenant-a-1234",
      log_group_name: "/logrelay/tenant-a",
    });
    await putConfig(CONFIG_TABLE, {
      tenant_id: "tenant-a",
      type: "s3",
      log_distribution_role_arn: role(ACCOUNT_A),
      external_id: "ext-tenant-a-1234",
      bucket_name: "tenant-a-archive",
      bucket_prefix: "cluster-logs/",
      desired_logs: ["payment-service"],
    });
    await putConfig(CONFIG_TABLE, {
      tenant_id: "tenant-b",
      type: "cloudwatch",
      log_distribution_role_arn: role(ACCOUNT_B),
      external_id: "ext-tenant-b-5678",
      log_group_name: "/logrelay/tenant-b",
      groups: ["api"],
      retention_days: 14,
    });
    await putConfig(CONFIG_TABLE, {
      tenant_id: "tenant-off",
      type: "cloudwatch",
      enabled: false,
      log_distribution_role_arn: role(ACCOUNT_B),
      external_id: "ext-tenant-off",
      log_group_name: "/logrelay/tenant-off",
    });
  });

  it("delivers each tenant's events only into its own account's log group, and S3 copies into its bucket", async () => {
    const telemetry = new MemoryTelemetry();
    const engine = createEngine(settings(), telemetry);
    const keyA = "tenant-a/cluster-1/payment-service/payment-7d9f-abcde/1700000000-a.log.gz";
    const keyB = "tenant-b/cluster-2/kube-apiserver/kube-apiserver-0/1700000000-b.log.gz";

    const resultA = await engine.processMessage(await stage(keyA, ndjsonGz(events("tenant-a", 25))));
    const resultB = await engine.processMessage(await stage(keyB, ndjsonGz(events("tenant-b", 7))));

    expect(resultA.status).toBe("delivered");
    expect(resultB.status).toBe("delivered");
    const a = await clientsFor(ACCOUNT_A);
    const b = await clientsFor(ACCOUNT_B);
    const groupA = await readLogGroup(a.logs, "/logrelay/tenant-a");
    const streamA = `cluster-1/payment-service/payment-7d9f-abcde/${now.toISOString().slice(0, 10)}`;
    expect(Object.keys(groupA ?? {})).toEqual([streamA]);
    expect(groupA![streamA]!.map((e) => e.message)).toEqual(events("tenant-a", 25).map((e) => e.message));
    const groupB = await readLogGroup(b.logs, "/logrelay/tenant-b");
    expect(
      Object.values(groupB ?? {})
        .flat()
        .map((e) => e.message),
    ).toEqual(events("tenant-b", 7).map((e) => e.message));
    // Isolation: neither group exists in the other tenant's account, nor in the central account.
    expect(await readLogGroup(b.logs, "/logrelay/tenant-a")).toBeUndefined();
    expect(await readLogGroup(a.logs, "/logrelay/tenant-b")).toBeUndefined();
    expect(
      await readLogGroup((await clientsFor(CENTRAL_ACCOUNT)).logs, "/logrelay/tenant-a"),
    ).toBeUndefined();

    const copied = await a.s3.send(
      new GetObjectCommand({ Bucket: "tenant-a-archive", Key: `cluster-logs/${keyA}` }),
    );
    expect(copied.Metadata).toMatchObject({ "logrelay-source-key": keyA, "logrelay-tenant-id": "tenant-a" });
    expect(Buffer.from(await copied.Body!.transformToByteArray())).toEqual(ndjsonGz(events("tenant-a", 25)));
    // Per-tenant metrics are off by default: the totals per destination type, and each tenant's figures
    // in its object log line (what the Contributor Insights rules rank).
    expect(telemetry.total("EventsDelivered", { destination: "cloudwatch" })).toBe(25 + 7);
    expect(
      telemetry.metricSets.filter((m) => m.dimensions.tenant_id !== undefined && m.dimensions.destination),
    ).toEqual([]);
    expect(
      telemetry.lines
        .filter((l) => l.message === "object delivered")
        .map((l) => [l.fields.tenant_id, l.fields.events_delivered]),
    ).toEqual([
      ["tenant-a", 25],
      ["tenant-b", 7],
    ]);

    // The groups logrelay created: the config's retention, else the environment's default (30), and tags.
    const describe = async (logs: typeof a.logs, name: string) =>
      (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }))).logGroups?.[0];
    expect(await describe(a.logs, "/logrelay/tenant-a")).toMatchObject({ retentionInDays: 30 });
    expect(await describe(b.logs, "/logrelay/tenant-b")).toMatchObject({ retentionInDays: 14 });
    const tags = await b.logs.send(new ListTagsLogGroupCommand({ logGroupName: "/logrelay/tenant-b" }));
    expect(tags.tags).toEqual({ "managed-by": "logrelay", "logrelay:tenant": "tenant-b" });
  });

  it("a retried message does not deliver again to destinations the ledger has", async () => {
    const engine = createEngine(settings(), new MemoryTelemetry());
    const key = "tenant-b/cluster-2/openshift-apiserver/oas-1/1700000001-r.log.gz";
    const message = await stage(key, ndjsonGz(events("retry", 3)));

    const first = await engine.processMessage(message);
    const second = await engine.processMessage(message);

    expect(first.objects[0]!.destinations.map((d) => d.status)).toEqual(["delivered"]);
    expect(second.objects[0]!.destinations.map((d) => d.status)).toEqual(["already_delivered"]);
    const group = await readLogGroup((await clientsFor(ACCOUNT_B)).logs, "/logrelay/tenant-b");
    const messages = Object.values(group!)
      .flat()
      .map((e) => e.message);
    expect(messages.filter((m) => m.startsWith("retry "))).toHaveLength(3);
  });

  it.each([
    ["a disabled tenant", "tenant-off/c/app/pod/1.log.gz", "skipped", "delivery config is disabled"],
    [
      "an unregistered tenant",
      "tenant-nobody/c/app/pod/1.log.gz",
      "failed_permanent",
      "NotRegisteredError: tenant tenant-nobody is not registered",
    ],
    [
      "a registered tenant without configs",
      "tenant-noconf/c/app/pod/1.log.gz",
      "skipped",
      "tenant has no delivery config",
    ],
    [
      "an application no config selects",
      "tenant-b/c/payment-service/pod/1.log.gz",
      "skipped",
      "not selected",
    ],
    ["a bad key", "tenant-a/c/../pod/1.log.gz", "failed_permanent", "MalformedKeyError"],
  ])("%s is acknowledged with the documented outcome", async (_what, key, status, reason) => {
    const telemetry = new MemoryTelemetry();
    const engine = createEngine(settings(), telemetry);

    const result = await engine.processMessage(await stage(key, ndjsonGz(events("x", 2))));

    expect(result.status).toBe(status);
    expect(result.objects[0]!.reason).toContain(reason);
    const line = telemetry.lines.find((l) => l.fields.key === key);
    expect(line?.fields.outcome).toBe(status);
  });

  it("a corrupt gzip is a permanent failure that says so, and other destinations still run", async () => {
    const telemetry = new MemoryTelemetry();
    const engine = createEngine(settings(), telemetry);
    const good = gzipSync(Buffer.from(`${JSON.stringify(vectorEvent("fine", now))}\n`.repeat(50)));
    const corrupt = Buffer.concat([
      good.subarray(0, 40),
      Buffer.from("garbage-bytes-not-deflate"),
      good.subarray(60),
    ]);
    const key = "tenant-a/cluster-1/payment-service/pod-c/1700000002-c.log.gz";

    const result = await engine.processMessage(await stage(key, corrupt));

    expect(result.status).toBe("failed_permanent");
    const cw = result.objects[0]!.destinations.find((d) => d.type === "cloudwatch")!;
    expect(cw.status).toBe("failed_permanent");
    expect(cw.reason).toMatch(/CorruptObjectError: object is not valid gzip/);
    // The S3 destination copies bytes as they are: the customer gets the object to inspect.
    const s3 = result.objects[0]!.destinations.find((d) => d.type === "s3")!;
    expect(s3.status).toBe("delivered");
    expect(telemetry.total("PermanentFailures")).toBe(1);
  });

  it("a config naming an unregistered account Z is not delivered: account Z receives no log group at all", async () => {
    const ACCOUNT_Z = "999999999999";
    await registerTenant(REGISTRY_TABLE, "tenant-z", [ACCOUNT_A]);
    await putConfig(CONFIG_TABLE, {
      tenant_id: "tenant-z",
      type: "cloudwatch",
      log_distribution_role_arn: role(ACCOUNT_Z),
      external_id: "ext-tenant-z-1234",
      log_group_name: "/logrelay/tenant-z",
    });
    const key = "tenant-z/cluster-1/payment-service/pay-0/1700000000-z.log.gz";

    const result = await createEngine(settings(), new MemoryTelemetry()).processMessage(
      await stage(key, ndjsonGz(events("tenant-z", 5))),
    );

    expect(result.objects[0]!.destinations[0]).toMatchObject({
      status: "failed_permanent",
      eventsDelivered: 0,
      reason: expect.stringContaining(`account ${ACCOUNT_Z} is not registered for tenant tenant-z`),
    });
    const z = await clientsFor(ACCOUNT_Z);
    expect(await readLogGroup(z.logs, "/logrelay/tenant-z")).toBeUndefined();
    const groups = await z.logs.send(new DescribeLogGroupsCommand({}));
    expect(groups.logGroups ?? []).toEqual([]);
  });
});
