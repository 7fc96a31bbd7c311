import { ApiClient, type ApiReply, isDryRun } from "../../../cli/api-client";
import type { ApiRequest } from "../../../functions/tenant-api/router";
import { routePath, TENANT_API_ROUTES } from "../../../functions/tenant-api/routes";

/** A transport that records requests and answers from a script. */
function scripted(answer: (req: ApiRequest) => ApiReply) {
  const sent: ApiRequest[] = [];
  const client = (dryRun = false) =>
    new ApiClient(
      async () => async (req) => {
        sent.push(req);
        return answer(req);
      },
      dryRun,
    );
  return { sent, client };
}

const registration = (tenant: string) => ({ tenant_id: tenant, accounts: ["111111111111"], updated_at: "t" });

describe("ApiClient: the tenant API by route key", () => {
  it("builds every route's path from its key, encoding each parameter", () => {
    expect(
      routePath("GET /tenants/{tenant_id}/delivery-configs/{type}", { tenant_id: "a/b", type: "s3" }),
    ).toBe("/tenants/a%2Fb/delivery-configs/s3");
    for (const route of TENANT_API_ROUTES) {
      const path = routePath(route, { tenant_id: "t", type: "cloudwatch" } as never);
      expect(path).not.toMatch(/[{}]/);
    }
  });

  it("a list is read page by page until the last, through one paging helper", async () => {
    const { sent, client } = scripted((req) => {
      const page = Number(req.query.cursor ?? "0");
      return {
        status: 200,
        body: {
          items: [registration(`t${page}a`), registration(`t${page}b`)],
          ...(page < 2 && { cursor: String(page + 1) }),
        },
      };
    });
    const pages: [number, boolean][] = [];
    const items = await client().all("GET /registry", {}, (count, more) => pages.push([count, more]));
    expect(items.map((r) => r.tenant_id)).toEqual(["t0a", "t0b", "t1a", "t1b", "t2a", "t2b"]);
    expect(sent.map((r) => r.query)).toEqual([
      { limit: "100" },
      { limit: "100", cursor: "1" },
      { limit: "100", cursor: "2" },
    ]);
    expect(pages).toEqual([
      [2, true],
      [4, true],
      [6, false],
    ]);
  });

  it("expects each route's own success status: 201 for a created config, 204 for a delete", async () => {
    const { client } = scripted((req) => ({ status: req.method === "DELETE" ? 204 : 201, body: undefined }));
    await expect(
      client().call("DELETE /registry/{tenant_id}", { tenant_id: "acme" }),
    ).resolves.toBeUndefined();
    await expect(
      client().call("POST /tenants/{tenant_id}/delivery-configs", { tenant_id: "acme" }, { body: {} }),
    ).resolves.toBeUndefined();
    await expect(client().call("GET /registry/{tenant_id}", { tenant_id: "acme" })).rejects.toThrow(/^201 /);
  });

  it("an error reply is one message with its field errors; a 404 read by find is an answer", async () => {
    const { client } = scripted((req) =>
      req.method === "GET"
        ? {
            status: 404,
            body: { error: { code: "NotFound", message: "registration of tenant x does not exist" } },
          }
        : {
            status: 400,
            body: {
              error: {
                code: "ValidationError",
                message: "invalid registration",
                fields: { accounts: ["at least one account"] },
              },
            },
          },
    );
    await expect(client().find("GET /registry/{tenant_id}", { tenant_id: "x" })).resolves.toBeUndefined();
    await expect(
      client().call("PUT /registry/{tenant_id}", { tenant_id: "x" }, { body: { accounts: [] } }),
    ).rejects.toThrow("400 ValidationError: invalid registration\n  accounts: at least one account");
  });

  it("a dry run sends no write and returns the request; reads still go out", async () => {
    const { sent, client } = scripted(() => ({ status: 200, body: registration("acme") }));
    const api = client(true);
    const reply = await api.write(
      "DELETE /tenants/{tenant_id}/delivery-configs/{type}",
      { tenant_id: "acme", type: "s3" },
      { query: { version: "3" } },
    );
    expect(isDryRun(reply)).toBe(true);
    expect(reply).toEqual({
      dryRun: { method: "DELETE", path: "/tenants/acme/delivery-configs/s3?version=3" },
    });
    expect(sent).toEqual([]);
    await api.call("GET /registry/{tenant_id}", { tenant_id: "acme" });
    expect(sent).toHaveLength(1);
  });
});
