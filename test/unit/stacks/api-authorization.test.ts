import { runSimulation } from "@cloud-copilot/iam-simulate";
import { platformAdminApiPolicy, tenantOperatorApiPolicy } from "../../../stacks/policies";
import { RegionalStack } from "../../../stacks/regional-stack";
import { all, env, synth, testApp } from "../../harness/synth";

/**
 * Per-tenant authorization of the tenant API, proven with the IAM policy simulator on every route
 * the regional stack deploys (each requires AWS_IAM): what the example policies allow, as an
 * execute-api request ARN `<api>/<stage>/<METHOD>/<path>`.
 */
const API = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5";
const routeKeys: string[] = Object.values(
  all(synth(new RegionalStack(testApp(), env(), "us-east-1")), "aws_apigatewayv2_route"),
)
  .map((r) => r.route_key as string)
  .sort();

const requestArn = (routeKey: string, tenant: string) => {
  const [method, template] = routeKey.split(" ") as [string, string];
  const path = template.replace("{tenant_id}", tenant).replace("{type}", "cloudwatch");
  return `${API}/$default/${method}${path}`;
};

async function invoke(policy: object, resource: string): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal: "arn:aws:iam::123456789012:role/acme-operator",
        action: "execute-api:Invoke",
        resource: { resource, accountId: "123456789012" },
        contextVariables: {},
      },
      identityPolicies: [{ name: "p", policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if ("errors" in result && result.errors) throw new Error(JSON.stringify(result.errors));
  return (result as { overallResult: string }).overallResult;
}

describe("tenant API authorization per tenant (IAM simulator, every deployed route)", () => {
  const operator = tenantOperatorApiPolicy(API, "acme");
  const admin = platformAdminApiPolicy(API);
  const tenantRoutes = routeKeys.filter((k) => k.includes("/tenants/{tenant_id}"));
  const adminRoutes = routeKeys.filter((k) => !k.includes("/tenants/{tenant_id}"));

  it("covers the registry and the all-tenant listing as admin-only routes", () => {
    expect(adminRoutes).toEqual([
      "DELETE /registry/{tenant_id}",
      "GET /delivery-configs",
      "GET /registry",
      "GET /registry/{tenant_id}",
      "PUT /registry/{tenant_id}",
    ]);
  });

  it("covers a tenant's own history (the audit trail) as a tenant route", () => {
    expect(tenantRoutes).toContain("GET /tenants/{tenant_id}/history");
  });

  it.each(tenantRoutes)("a tenant operator may call %s for its own tenant", async (route) => {
    expect(await invoke(operator, requestArn(route, "acme"))).toBe("Allowed");
  });

  it.each(tenantRoutes)("but not %s for another tenant", async (route) => {
    expect(await invoke(operator, requestArn(route, "globex"))).not.toBe("Allowed");
    expect(await invoke(operator, requestArn(route, "acme-evil"))).not.toBe("Allowed");
  });

  it.each(adminRoutes)("a tenant operator may not call %s (registry, all tenants)", async (route) => {
    expect(await invoke(operator, requestArn(route, "acme"))).not.toBe("Allowed");
  });

  it.each(routeKeys)("a platform admin may call %s", async (route) => {
    expect(await invoke(admin, requestArn(route, "globex"))).toBe("Allowed");
  });
});
