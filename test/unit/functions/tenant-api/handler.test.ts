import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { makeApiHandler, toApiRequest } from "../../../../functions/tenant-api/handler";
import { makeRouter } from "../../../../functions/tenant-api/router";
import { TENANT_API_ROUTES } from "../../../../functions/tenant-api/routes";
import { memoryService } from "../../../harness/registry";

const event = (method: string, path: string, body?: string, base64 = false) =>
  ({
    rawPath: path,
    queryStringParameters: {},
    body: base64 && body ? Buffer.from(body).toString("base64") : body,
    isBase64Encoded: base64,
    requestContext: {
      requestId: "r-1",
      http: { method },
      authorizer: { iam: { userArn: "arn:aws:iam::123456789012:user/operator" } },
    },
  }) as unknown as APIGatewayProxyEventV2WithIAMAuthorizer;

const config = {
  type: "cloudwatch",
  log_distribution_role_arn: "arn:aws:iam::111111111111:role/logrelay/r",
  external_id: "very-secret-external-id",
  log_group_name: "/logrelay/acme",
};

describe("tenant API Lambda handler", () => {
  const setup = () => {
    const lines: Record<string, unknown>[] = [];
    const logger = {
      info: (_m: string, f: Record<string, unknown>) => void lines.push(f),
      error: (_m: string, f: Record<string, unknown>) => void lines.push(f),
    };
    const { service } = memoryService({ acme: ["111111111111"] });
    return { lines, handler: makeApiHandler(makeRouter(service), logger as never) };
  };

  it("decodes base64 bodies and answers JSON", async () => {
    const { handler } = setup();
    const res = await handler(event("POST", "/tenants/acme/delivery-configs", JSON.stringify(config), true));
    expect(res.statusCode).toBe(201);
    expect(res.headers).toEqual({ "content-type": "application/json" });
    expect(JSON.parse(res.body!)).toMatchObject({ tenant_id: "acme", version: 1 });
  });

  it("logs caller, route, tenant and status, never the body or the ExternalId", async () => {
    const { handler, lines } = setup();
    await handler(event("POST", "/tenants/acme/delivery-configs", JSON.stringify(config)));
    expect(lines).toEqual([
      expect.objectContaining({
        caller: "arn:aws:iam::123456789012:user/operator",
        route: "/tenants/{tenant_id}/delivery-configs",
        tenant_id: "acme",
        status: 201,
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain("very-secret-external-id");
  });

  it("answers 500 without internals when something unexpected breaks", async () => {
    const lines: Record<string, unknown>[] = [];
    const handler = makeApiHandler(
      async () => {
        throw new Error("db exploded with secret details");
      },
      { info: () => {}, error: (_m: string, f: Record<string, unknown>) => void lines.push(f) } as never,
    );
    const res = await handler(event("GET", "/delivery-configs"));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain("secret details");
    expect(lines[0]).toMatchObject({ error: "Error" });
  });

  it("serves every route the stack deploys", async () => {
    const { handler } = setup();
    for (const routeKey of TENANT_API_ROUTES) {
      const [method, template] = routeKey.split(" ") as [string, string];
      const path = template.replace("{tenant_id}", "acme").replace("{type}", "cloudwatch");
      const res = await handler(
        event(method, path, method === "GET" || method === "DELETE" ? undefined : "{}"),
      );
      expect([
        routeKey,
        res.statusCode !== 404 || JSON.parse(res.body!).error.message.includes("does not exist"),
      ]).toEqual([routeKey, true]);
      expect(res.statusCode).not.toBe(405);
    }
  });

  it("maps the API Gateway event to the router's request, the caller's IAM ARN as its actor", () => {
    expect(toApiRequest(event("GET", "/delivery-configs"))).toEqual({
      method: "GET",
      path: "/delivery-configs",
      query: {},
      actor: "arn:aws:iam::123456789012:user/operator",
    });
  });
});

describe("the audit trail: who changed where a tenant's logs go, when, from what to what", () => {
  const setup = () => {
    let clock = Date.parse("2026-12-06T10:00:00Z");
    const stores = memoryService({ acme: ["111111111111"], globex: ["222222222222"] }, () => {
      clock += 1000;
      return new Date(clock);
    });
    const handler = makeApiHandler(makeRouter(stores.service), { info: () => {}, error: () => {} } as never);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await handler(event(method, path, body === undefined ? undefined : JSON.stringify(body)));
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
    };
    return { ...stores, call };
  };

  it("every write of a config or a registration records the caller, the action and the item before and after", async () => {
    const { call, audit } = setup();
    await call("POST", "/tenants/acme/delivery-configs", config);
    await call("PATCH", "/tenants/acme/delivery-configs/cloudwatch", { enabled: false, version: 1 });
    await call("PUT", "/registry/acme", { accounts: ["111111111111", "333333333333"] });
    await call("DELETE", "/tenants/acme/delivery-configs/cloudwatch");
    await call("DELETE", "/registry/globex");
    expect(audit.entries.map((e) => [e.tenant_id, e.action, e.target, e.actor])).toEqual([
      ["acme", "config.create", "config:cloudwatch", "arn:aws:iam::123456789012:user/operator"],
      ["acme", "config.patch", "config:cloudwatch", "arn:aws:iam::123456789012:user/operator"],
      ["acme", "registry.put", "registration", "arn:aws:iam::123456789012:user/operator"],
      ["acme", "config.delete", "config:cloudwatch", "arn:aws:iam::123456789012:user/operator"],
      ["globex", "registry.delete", "registration", "arn:aws:iam::123456789012:user/operator"],
    ]);
    const patch = audit.entries[1]!;
    expect([
      patch.before?.enabled,
      patch.after?.enabled,
      patch.before?.version,
      patch.after?.version,
    ]).toEqual([true, false, 1, 2]);
    expect(audit.entries[2]!.before?.accounts).toEqual(["111111111111"]);
    expect(audit.entries[2]!.after?.accounts).toEqual(["111111111111", "333333333333"]);
    expect(audit.entries[3]!.after).toBeUndefined();
  });

  it("the ExternalId never appears in clear: a fingerprint shows whether it changed", async () => {
    const { call, audit } = setup();
    await call("POST", "/tenants/acme/delivery-configs", config);
    await call("PATCH", "/tenants/acme/delivery-configs/cloudwatch", {
      external_id: "another-secret-id",
      version: 1,
    });
    const text = JSON.stringify(audit.entries);
    expect(text).not.toContain("very-secret-external-id");
    expect(text).not.toContain("another-secret-id");
    const [created, patched] = audit.entries;
    expect(created!.after!.external_id).toMatch(/^masked:[0-9a-f]{8}$/);
    expect(patched!.before!.external_id).toBe(created!.after!.external_id);
    expect(patched!.after!.external_id).not.toBe(patched!.before!.external_id);
  });

  it("a refused write records nothing; GET /tenants/{id}/history lists the tenant's own entries, newest first", async () => {
    const { call, audit } = setup();
    await call("POST", "/tenants/acme/delivery-configs", config);
    const refused = await call("PATCH", "/tenants/acme/delivery-configs/cloudwatch", {
      enabled: false,
      version: 7,
    });
    expect(refused.status).toBe(409);
    await call("PUT", "/registry/globex", { accounts: ["222222222222"] });
    await call("PATCH", "/tenants/acme/delivery-configs/cloudwatch", { enabled: false, version: 1 });
    expect(audit.entries).toHaveLength(3);
    const history = await call("GET", "/tenants/acme/history");
    expect(history.status).toBe(200);
    expect(history.body.items.map((e: { action: string }) => e.action)).toEqual([
      "config.patch",
      "config.create",
    ]);
    expect(JSON.stringify(history.body)).not.toContain("very-secret-external-id");
  });
});

describe("tenant registry: write-time refusal, admin routes, no ExternalId in lists", () => {
  const setup = () => {
    const { service, registry } = memoryService({ acme: ["111111111111"], globex: ["222222222222"] });
    const logger = { info: () => {}, error: () => {} };
    const handler = makeApiHandler(makeRouter(service), logger as never);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await handler(event(method, path, body === undefined ? undefined : JSON.stringify(body)));
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
    };
    return { registry, call };
  };

  it("refuses a config naming another tenant's account, naming the field (globex with acme's role)", async () => {
    const { call } = setup();

    const res = await call("POST", "/tenants/globex/delivery-configs", config);

    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual({
      log_distribution_role_arn: [
        "account 111111111111 is not one of tenant globex's registered accounts (222222222222)",
      ],
    });
  });

  it("refuses a config for an unregistered tenant, and a PUT or PATCH that moves a config to another account", async () => {
    const { call } = setup();
    expect((await call("POST", "/tenants/initech/delivery-configs", config)).body.error.fields).toEqual({
      tenant_id: ["initech is not registered: a platform admin registers it (logrelay tenants register)"],
    });
    await call("POST", "/tenants/acme/delivery-configs", config);

    const moved = { log_distribution_role_arn: "arn:aws:iam::999999999999:role/logrelay/r", version: 1 };
    const patched = await call("PATCH", "/tenants/acme/delivery-configs/cloudwatch", moved);
    const replaced = await call("PUT", "/tenants/acme/delivery-configs/cloudwatch", { ...config, ...moved });

    expect([patched.status, replaced.status]).toEqual([400, 400]);
    expect(patched.body.error.fields.log_distribution_role_arn[0]).toMatch(
      /account 999999999999 is not one of/,
    );
  });

  it("validates filter and redact like every field, and takes a firehose config in the tenant's account", async () => {
    const { call } = setup();
    const bad = await call("POST", "/tenants/acme/delivery-configs", {
      ...config,
      filter: { exclude: [{ field: "message", regex: "(a)\\1" }], exlude: [] },
      redact: ["email", "phone", { name: "ticket", regex: "(?=TCK)" }],
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual([
      "exlude",
      "filter.exclude.0.regex",
      "redact.1",
      "redact.2.regex",
    ]);
    expect(bad.body.error.fields["filter.exclude.0.regex"][0]).toMatch(/^not an RE2 expression/);

    const firehose = {
      type: "firehose",
      log_distribution_role_arn: config.log_distribution_role_arn,
      external_id: config.external_id,
      delivery_stream_arn: "arn:aws:firehose:eu-west-1:111111111111:deliverystream/acme-splunk",
      redact: ["credit_card"],
    };
    expect((await call("POST", "/tenants/acme/delivery-configs", firehose)).status).toBe(201);
    const elsewhere = await call("POST", "/tenants/acme/delivery-configs", {
      ...firehose,
      delivery_stream_arn: "arn:aws:firehose:eu-west-1:999999999999:deliverystream/x",
    });
    expect(elsewhere.body.error.fields).toEqual({
      delivery_stream_arn: [
        "delivery_stream_arn must be a stream in the account of log_distribution_role_arn",
      ],
    });
  });

  it("lists configs without the ExternalId; a single GET still returns it", async () => {
    const { call } = setup();
    await call("POST", "/tenants/acme/delivery-configs", config);

    const all = await call("GET", "/delivery-configs");
    const tenant = await call("GET", "/tenants/acme/delivery-configs");
    const one = await call("GET", "/tenants/acme/delivery-configs/cloudwatch");

    expect(all.body.items[0]).not.toHaveProperty("external_id");
    expect(tenant.body.items[0]).not.toHaveProperty("external_id");
    expect(JSON.stringify([all.body, tenant.body])).not.toContain(config.external_id);
    expect(one.body.external_id).toBe(config.external_id);
  });

  it("registers, reads, lists and unregisters tenants (admin routes), validating the body", async () => {
    const { call, registry } = setup();

    const put = await call("PUT", "/registry/initech", { accounts: ["555555555555"], clusters: ["rosa-1"] });
    const got = await call("GET", "/registry/initech");
    const listed = await call("GET", "/registry");
    const bad = await call("PUT", "/registry/initech", { accounts: ["12345"], extra: true });
    const gone = await call("DELETE", "/registry/initech");
    const again = await call("DELETE", "/registry/initech");

    expect([put.status, got.status, listed.status]).toEqual([200, 200, 200]);
    expect(got.body).toMatchObject({
      tenant_id: "initech",
      accounts: ["555555555555"],
      clusters: ["rosa-1"],
    });
    expect(listed.body.items.map((r: { tenant_id: string }) => r.tenant_id).sort()).toEqual([
      "acme",
      "globex",
      "initech",
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toMatchObject({ "accounts.0": ["must be a 12-digit AWS account id"] });
    expect([gone.status, again.status]).toEqual([204, 404]);
    expect(registry.items.has("initech")).toBe(false);
  });
});
