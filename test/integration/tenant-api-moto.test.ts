import { CreateDeliveryStreamCommand, FirehoseClient } from "@aws-sdk/client-firehose";
import { CreateBucketCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { makeApiHandler } from "../../functions/tenant-api/handler";
import { makeRouter } from "../../functions/tenant-api/router";
import { loadApiSettings } from "../../functions/tenant-api/settings";
import { createRouter, createService } from "../../functions/tenant-api/wiring";
import {
  accountCredentials,
  CENTRAL_ACCOUNT,
  clientsFor,
  createAuditTable,
  createConfigTable,
  createRegistryTable,
  REGION,
} from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { useMoto } from "../harness/moto-suite";

const TABLE = "logrelay-api-configs";
const REGISTRY = "api-tenant-registry";
const AUDIT = "api-tenant-audit";
const ADMIN = "arn:aws:sts::123456789012:assumed-role/platform-admin/alice";
const ROLE_A = "arn:aws:iam::111111111111:role/logrelay/logrelay-log-distribution-acme";

const cw = (extra: Record<string, unknown> = {}) => ({
  type: "cloudwatch",
  log_distribution_role_arn: ROLE_A,
  external_id: "acme-ext-0001",
  log_group_name: "/logrelay/acme",
  ...extra,
});

describe("tenant-config API against the emulator's DynamoDB", () => {
  useMoto();
  let route: ReturnType<typeof makeRouter>;
  const call = async (method: string, path: string, body?: unknown, query: Record<string, string> = {}) => {
    const res = await route({
      method,
      path,
      query,
      ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
      actor: ADMIN,
    });
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
    return res as { status: number; body: any };
  };

  beforeAll(async () => {
    await createConfigTable(TABLE);
    await createRegistryTable(REGISTRY);
    await createAuditTable(AUDIT);
    route = makeRouter(
      createService(
        loadApiSettings({
          ...process.env,
          TENANT_CONFIG_TABLE: TABLE,
          TENANT_REGISTRY_TABLE: REGISTRY,
          AUDIT_TABLE: AUDIT,
          CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: `arn:aws:iam::${CENTRAL_ACCOUNT}:role/logrelay/logrelay-local-central-log-distribution`,
        }),
      ),
    );
    // A platform admin registers the tenants this suite configures, for ROLE_A's account.
    const tenants = [
      "acme",
      "dup",
      "race",
      "val",
      "valcw",
      "valfh",
      ...Array.from({ length: 23 }, (_, i) => `page-${String(i).padStart(2, "0")}`),
    ];
    for (const t of tenants) {
      expect((await call("PUT", `/registry/${t}`, { accounts: ["111111111111"] })).status).toBe(200);
    }
  });

  it("refuses, at write time, a config whose role is in an account the tenant is not registered for", async () => {
    const res = await call(
      "POST",
      "/tenants/acme/delivery-configs",
      cw({
        log_distribution_role_arn: "arn:aws:iam::999999999999:role/logrelay/logrelay-log-distribution-acme",
      }),
    );

    expect(res.status).toBe(400);
    expect(res.body.error.fields.log_distribution_role_arn[0]).toMatch(
      /account 999999999999 is not one of tenant acme/,
    );
    expect((await call("GET", "/tenants/acme/delivery-configs")).body.items).toEqual([]);
  });

  it("creates (201), reads, lists, replaces, patches and deletes a config", async () => {
    const created = await call("POST", "/tenants/acme/delivery-configs", cw({ groups: ["api"] }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      tenant_id: "acme",
      type: "cloudwatch",
      enabled: true,
      version: 1,
      groups: ["api"],
    });
    expect(created.body.created_at).toBe(created.body.updated_at);

    expect((await call("GET", "/tenants/acme/delivery-configs/cloudwatch")).body.log_group_name).toBe(
      "/logrelay/acme",
    );
    expect((await call("GET", "/tenants/acme/delivery-configs")).body.items).toHaveLength(1);

    const replaced = await call(
      "PUT",
      "/tenants/acme/delivery-configs/cloudwatch",
      cw({ log_group_name: "/logrelay/acme-2", version: 1 }),
    );
    expect(replaced).toMatchObject({
      status: 200,
      body: { version: 2, log_group_name: "/logrelay/acme-2", groups: [] },
    });
    expect(replaced.body.created_at).toBe(created.body.created_at);

    const patched = await call("PATCH", "/tenants/acme/delivery-configs/cloudwatch", {
      enabled: false,
      version: 2,
    });
    expect(patched).toMatchObject({
      status: 200,
      body: { version: 3, enabled: false, log_group_name: "/logrelay/acme-2" },
    });

    expect(
      (await call("DELETE", "/tenants/acme/delivery-configs/cloudwatch", undefined, { version: "3" })).status,
    ).toBe(204);
    expect((await call("GET", "/tenants/acme/delivery-configs/cloudwatch")).status).toBe(404);
  });

  it("409 on a duplicate create, 404 on missing items, 405 on a wrong method, 404 on unknown routes", async () => {
    await call("POST", "/tenants/dup/delivery-configs", cw());
    expect((await call("POST", "/tenants/dup/delivery-configs", cw())).body.error.code).toBe("Conflict");
    expect((await call("PATCH", "/tenants/nobody/delivery-configs/s3", { version: 1 })).status).toBe(404);
    expect((await call("DELETE", "/tenants/nobody/delivery-configs/s3")).status).toBe(404);
    expect((await call("POST", "/tenants/dup/delivery-configs/cloudwatch")).status).toBe(405);
    expect((await call("GET", "/nothing/here")).status).toBe(404);
  });

  it("refuses a concurrent update: the second writer with the same version gets 409", async () => {
    await call("POST", "/tenants/race/delivery-configs", cw());
    // Two writers who read version 1, one after the other: moto restores whole tables when a
    // transaction fails (its transact_write_items), so a failed write running beside a successful
    // one can undo it there; DynamoDB checks each condition atomically.
    const a = await call("PATCH", "/tenants/race/delivery-configs/cloudwatch", {
      desired_logs: ["a"],
      version: 1,
    });
    const b = await call("PATCH", "/tenants/race/delivery-configs/cloudwatch", {
      desired_logs: ["b"],
      version: 1,
    });
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error.message).toMatch(/changed by someone else \(you sent version 1\)/);
    expect(
      (await call("DELETE", "/tenants/race/delivery-configs/cloudwatch", undefined, { version: "1" })).status,
    ).toBe(409);
    expect((await call("PUT", "/tenants/race/delivery-configs/cloudwatch", cw())).status).toBe(428);
  });

  it.each([
    ["tenant id pattern", "/tenants/Bad_Tenant/delivery-configs", cw(), "tenant_id"],
    ["tenant mismatch", "/tenants/acme/delivery-configs", cw({ tenant_id: "globex" }), "tenant_id"],
    [
      "role ARN syntax",
      "/tenants/acme/delivery-configs",
      cw({ log_distribution_role_arn: "arn:aws:iam::12:role/x" }),
      "log_distribution_role_arn",
    ],
    [
      "log group name rules",
      "/tenants/acme/delivery-configs",
      cw({ log_group_name: "bad name" }),
      "log_group_name",
    ],
    [
      "bucket name rules",
      "/tenants/acme/delivery-configs",
      { ...cw(), type: "s3", log_group_name: undefined, bucket_name: "Bad_Bucket" },
      "bucket_name",
    ],
    [
      "unknown region",
      "/tenants/acme/delivery-configs",
      cw({ target_region: "us-middle-9" }),
      "target_region",
    ],
    ["unknown group", "/tenants/acme/delivery-configs", cw({ groups: ["Databases"] }), "groups"],
    ["unknown type", "/tenants/acme/delivery-configs", cw({ type: "kafka" }), "type"],
    ["unknown field", "/tenants/acme/delivery-configs", cw({ desired_log: ["x"] }), "desired_log"],
    ["server-owned field", "/tenants/acme/delivery-configs", cw({ created_at: "2020-01-01" }), "created_at"],
    ["external id", "/tenants/acme/delivery-configs", cw({ external_id: "x" }), "external_id"],
    ["not an object", "/tenants/acme/delivery-configs", "[1,2]", "(body)"],
  ])("400 for %s, naming the field", async (_what, path, body, field) => {
    const res = await call("POST", path, body);
    expect(res.status).toBe(400);
    if (field !== "(body)") expect(Object.keys(res.body.error.fields)).toContain(field);
    else expect(res.body.error.message).toMatch(/JSON object/);
  });

  it("400 for a body that is not JSON, a bad limit and a forged cursor", async () => {
    expect((await call("POST", "/tenants/acme/delivery-configs", "{nope")).body.error.message).toMatch(
      /not valid JSON/,
    );
    expect(
      (await call("GET", "/delivery-configs", undefined, { limit: "1000" })).body.error.fields.limit,
    ).toBeDefined();
    expect(
      (await call("GET", "/delivery-configs", undefined, { cursor: "bm90LWEta2V5" })).body.error.fields
        .cursor,
    ).toBeDefined();
  });

  it("pages through every config with bounded pages and an opaque cursor", async () => {
    for (let i = 0; i < 23; i++)
      await call("POST", `/tenants/page-${String(i).padStart(2, "0")}/delivery-configs`, cw());
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await call("GET", "/delivery-configs", undefined, {
        limit: "5",
        ...(cursor && { cursor }),
      });
      expect(res.body.items.length).toBeLessThanOrEqual(5);
      for (const item of res.body.items) seen.add(`${item.tenant_id}/${item.type}`);
      cursor = res.body.cursor;
      pages++;
    } while (cursor);
    expect([...seen].filter((k) => k.startsWith("page-"))).toHaveLength(23);
    expect(pages).toBeGreaterThanOrEqual(5);
  });

  it("validate assumes the customer role and reaches the bucket; a missing bucket fails with a hint", async () => {
    const acme = await clientsFor("111111111111");
    await acme.s3.send(new CreateBucketCommand({ Bucket: "acme-validate-ok" }));
    await call("POST", "/tenants/val/delivery-configs", {
      ...cw(),
      type: "s3",
      log_group_name: undefined,
      bucket_name: "acme-validate-ok",
      bucket_prefix: "logs/",
    });

    const ok = await call("POST", "/tenants/val/delivery-configs/s3/validate");
    expect(ok.body).toMatchObject({
      ok: true,
      checks: [
        { check: "assume-customer-role", ok: true },
        { check: "bucket-writable", ok: true },
      ],
    });
    await acme.s3.send(
      new GetObjectCommand({ Bucket: "acme-validate-ok", Key: "logs/val/_logrelay-validation.json" }),
    );

    await call("PATCH", "/tenants/val/delivery-configs/s3", {
      bucket_name: "acme-does-not-exist",
      version: 1,
    });
    const bad = await call("POST", "/tenants/val/delivery-configs/s3/validate");
    expect(bad.body.ok).toBe(false);
    expect(bad.body.checks[1]).toMatchObject({
      check: "bucket-writable",
      ok: false,
      detail: expect.stringMatching(/NoSuchBucket/),
    });
    expect(bad.body.checks[1].hint).toMatch(/must exist in account 111111111111/);
  });

  it("validate of a cloudwatch config reports the log group", async () => {
    await call("POST", "/tenants/valcw/delivery-configs", cw({ log_group_name: "/logrelay/valcw" }));
    const res = await call("POST", "/tenants/valcw/delivery-configs/cloudwatch/validate");
    expect(res.body).toMatchObject({
      ok: true,
      checks: [
        { ok: true },
        {
          check: "log-group-reachable",
          ok: true,
          detail: expect.stringMatching(/created on the first delivery/),
        },
      ],
    });
  });

  it("validate of a firehose config describes the stream with the customer's role; a missing one fails with a hint", async () => {
    await new FirehoseClient({ region: REGION, credentials: await accountCredentials("111111111111") }).send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: "valfh-splunk",
        DeliveryStreamType: "DirectPut",
        ExtendedS3DestinationConfiguration: {
          BucketARN: "arn:aws:s3:::valfh-out",
          RoleARN: "arn:aws:iam::111111111111:role/firehose-delivery",
        },
      }),
    );
    const stream = "arn:aws:firehose:us-east-1:111111111111:deliverystream/valfh-splunk";
    const config = { ...cw(), type: "firehose", log_group_name: undefined, delivery_stream_arn: stream };
    expect((await call("POST", "/tenants/valfh/delivery-configs", config)).status).toBe(201);

    const ok = await call("POST", "/tenants/valfh/delivery-configs/firehose/validate");
    expect(ok.body).toMatchObject({
      ok: true,
      checks: [
        { check: "assume-customer-role", ok: true },
        {
          check: "stream-reachable",
          ok: true,
          detail: "delivery stream valfh-splunk is ACTIVE in us-east-1",
        },
      ],
    });

    await call("PATCH", "/tenants/valfh/delivery-configs/firehose", {
      delivery_stream_arn: "arn:aws:firehose:us-east-1:111111111111:deliverystream/gone",
      version: 1,
    });
    const bad = await call("POST", "/tenants/valfh/delivery-configs/firehose/validate");
    expect(bad.body.checks[1]).toMatchObject({
      check: "stream-reachable",
      ok: false,
      detail: expect.stringMatching(/^ResourceNotFoundException/),
      hint: expect.stringMatching(/^The stream gone must exist in account 111111111111, region us-east-1/),
    });
  });
});

describe("the audit trail: a change through the API and one through the CLI, read back with logrelay tenants history", () => {
  useMoto();
  const tables = {
    TENANT_CONFIG_TABLE: "audit-configs",
    TENANT_REGISTRY_TABLE: "audit-registry",
    AUDIT_TABLE: "audit-trail",
  };
  const OPERATOR = "arn:aws:sts::123456789012:assumed-role/acme-operator/bob";
  const cli = (...argv: string[]) => runCaptured(argv, { ...process.env, ...tables });

  beforeAll(async () => {
    await createConfigTable(tables.TENANT_CONFIG_TABLE);
    await createRegistryTable(tables.TENANT_REGISTRY_TABLE);
    await createAuditTable(tables.AUDIT_TABLE);
  });

  it("each appears with its caller and the item before and after; the ExternalId never in clear", async () => {
    // A platform admin registers acme with the CLI (direct mode: the caller is the local principal).
    const registered = await cli("tenants", "register", "acme", "--account", "111111111111");
    expect(registered.code).toBe(0);
    // The tenant's operator creates and then changes its config through the deployed API's handler.
    const settings = loadApiSettings({
      ...process.env,
      ...tables,
      CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: `arn:aws:iam::${CENTRAL_ACCOUNT}:role/logrelay/logrelay-local-central-log-distribution`,
    });
    const handler = makeApiHandler(createRouter(settings), { info: () => {}, error: () => {} } as never);
    const request = (method: string, path: string, body: unknown) =>
      handler({
        rawPath: path,
        queryStringParameters: {},
        body: JSON.stringify(body),
        isBase64Encoded: false,
        requestContext: { requestId: "r", http: { method }, authorizer: { iam: { userArn: OPERATOR } } },
      } as unknown as APIGatewayProxyEventV2WithIAMAuthorizer);
    expect((await request("POST", "/tenants/acme/delivery-configs", cw())).statusCode).toBe(201);
    expect(
      (
        await request("PATCH", "/tenants/acme/delivery-configs/cloudwatch", {
          external_id: "acme-ext-0002",
          enabled: false,
          version: 1,
        })
      ).statusCode,
    ).toBe(200);

    const { code, out } = await cli("tenants", "history", "acme", "-o", "json");
    expect(code).toBe(0);
    const entries = JSON.parse(out);
    expect(entries.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ["config.patch", OPERATOR],
      ["config.create", OPERATOR],
      ["registry.put", expect.stringMatching(/^arn:aws:(sts|iam)::123456789012:/)],
    ]);
    const [patch] = entries;
    expect(patch.before).toMatchObject({ enabled: true, version: 1 });
    expect(patch.after).toMatchObject({ enabled: false, version: 2 });
    expect(patch.before.external_id).toMatch(/^masked:[0-9a-f]{8}$/);
    expect(patch.after.external_id).not.toBe(patch.before.external_id);
    expect(entries[2].after).toMatchObject({ accounts: ["111111111111"] });
    expect(out).not.toContain("acme-ext-0001");
    expect(out).not.toContain("acme-ext-0002");
    // The table view names the change.
    const view = await cli("tenants", "history", "acme");
    expect(view.out).toMatch(/config\.patch\s+config:cloudwatch\s+.*enabled: true -> false/);
  });

  it("a change without the audit trail is refused, and leaves nothing changed", async () => {
    const { code, err } = await runCaptured(["tenants", "register", "nobody", "--account", "111111111111"], {
      ...process.env,
      TENANT_CONFIG_TABLE: tables.TENANT_CONFIG_TABLE,
      TENANT_REGISTRY_TABLE: tables.TENANT_REGISTRY_TABLE,
    });
    expect(code).toBe(1);
    expect(err).toMatch(
      /503 AuditNotConfigured: changes are refused without the audit trail: set AUDIT_TABLE/,
    );
    const listed = await cli("tenants", "registry", "list", "-o", "json");
    expect(JSON.parse(listed.out).map((r: { tenant_id: string }) => r.tenant_id)).toEqual(["acme"]);
  });
});
