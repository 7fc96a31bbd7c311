import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { makeApiHandler, toApiRequest } from "../../../../functions/tenant-api/handler";
import type { ConfigRepository, StoredConfig } from "../../../../functions/tenant-api/ports";
import { makeRouter } from "../../../../functions/tenant-api/router";
import { TENANT_API_ROUTES } from "../../../../functions/tenant-api/routes";
import { TenantConfigService } from "../../../../functions/tenant-api/service";

class MemoryRepo implements ConfigRepository {
  readonly items = new Map<string, StoredConfig>();
  list = async () => ({ items: [...this.items.values()] });
  listTenant = async (t: string) => [...this.items.values()].filter((i) => i.tenant_id === t);
  get = async (t: string, type: string) => this.items.get(`${t}/${type}`);
  create = async (item: StoredConfig) => {
    if (this.items.has(`${item.tenant_id}/${item.type}`)) return false;
    this.items.set(`${item.tenant_id}/${item.type}`, item);
    return true;
  };
  replace = async (item: StoredConfig, v: number) => {
    if (this.items.get(`${item.tenant_id}/${item.type}`)?.version !== v) return false;
    this.items.set(`${item.tenant_id}/${item.type}`, item);
    return true;
  };
  delete = async (t: string, type: string) => this.items.delete(`${t}/${type}`);
}

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
    const service = new TenantConfigService(new MemoryRepo(), { validate: async () => [] });
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

  it("maps the API Gateway event to the router's request", () => {
    expect(toApiRequest(event("GET", "/delivery-configs"))).toEqual({
      method: "GET",
      path: "/delivery-configs",
      query: {},
    });
  });
});
