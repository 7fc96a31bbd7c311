/**
 * Every route of the tenant-config API, as API Gateway route keys. The router serves exactly
 * these (its handler table is keyed by them) and the regional stack deploys exactly these.
 */
export const TENANT_API_ROUTES = [
  "GET /delivery-configs",
  "GET /tenants/{tenant_id}/delivery-configs",
  "POST /tenants/{tenant_id}/delivery-configs",
  "GET /tenants/{tenant_id}/delivery-configs/{type}",
  "PUT /tenants/{tenant_id}/delivery-configs/{type}",
  "PATCH /tenants/{tenant_id}/delivery-configs/{type}",
  "DELETE /tenants/{tenant_id}/delivery-configs/{type}",
  "POST /tenants/{tenant_id}/delivery-configs/{type}/validate",
  "GET /registry",
  "GET /registry/{tenant_id}",
  "PUT /registry/{tenant_id}",
  "DELETE /registry/{tenant_id}",
] as const;

export type RouteKey = (typeof TENANT_API_ROUTES)[number];

/** `GET /tenants/{tenant_id}/x` -> method, path template, and a pattern capturing the parameters. */
export function parseRouteKey(routeKey: string): { method: string; template: string; pattern: RegExp } {
  const [method, template] = routeKey.split(" ") as [string, string];
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)").replace(/\//g, "\\/")}$`);
  return { method, template, pattern };
}
