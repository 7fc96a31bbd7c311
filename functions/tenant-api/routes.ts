import type { CheckResult } from "../shared/destination-checks";
import type { AuditEntry, Page, StoredConfig, StoredRegistration } from "./ports";

/**
 * Every route of the tenant-config API, as API Gateway route keys. The router serves exactly
 * these (its handler table is keyed by them), the regional stack deploys exactly these, and the
 * CLI's client calls them by key (cli/api-client.ts).
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
  "GET /tenants/{tenant_id}/history",
  "GET /registry",
  "GET /registry/{tenant_id}",
  "PUT /registry/{tenant_id}",
  "DELETE /registry/{tenant_id}",
] as const;

export type RouteKey = (typeof TENANT_API_ROUTES)[number];

/** A config as lists show it: without the tenant's ExternalId (only a single GET returns it). */
export type ListedConfig = StoredConfig extends infer C
  ? C extends unknown
    ? Omit<C, "external_id">
    : never
  : never;

/** What each route answers on success: its status and body. Client and router both use it. */
export interface RouteReplies {
  "GET /delivery-configs": Page<ListedConfig>;
  "GET /tenants/{tenant_id}/delivery-configs": { items: ListedConfig[] };
  "POST /tenants/{tenant_id}/delivery-configs": StoredConfig;
  "GET /tenants/{tenant_id}/delivery-configs/{type}": StoredConfig;
  "PUT /tenants/{tenant_id}/delivery-configs/{type}": StoredConfig;
  "PATCH /tenants/{tenant_id}/delivery-configs/{type}": StoredConfig;
  "DELETE /tenants/{tenant_id}/delivery-configs/{type}": undefined;
  "POST /tenants/{tenant_id}/delivery-configs/{type}/validate": { ok: boolean; checks: CheckResult[] };
  "GET /tenants/{tenant_id}/history": Page<AuditEntry>;
  "GET /registry": Page<StoredRegistration>;
  "GET /registry/{tenant_id}": StoredRegistration;
  "PUT /registry/{tenant_id}": StoredRegistration;
  "DELETE /registry/{tenant_id}": undefined;
}

/** The status of a successful reply: 201 for a created config, 204 for a delete, else 200. */
export function successStatus(route: RouteKey): number {
  if (route === "POST /tenants/{tenant_id}/delivery-configs") return 201;
  return route.startsWith("DELETE ") ? 204 : 200;
}

/** Routes that answer one page of a list and a cursor for the next. */
export type PagedRoute = {
  [K in RouteKey]: RouteReplies[K] extends Page<unknown>
    ? "cursor" extends keyof RouteReplies[K]
      ? K
      : never
    : never;
}[RouteKey];

/** The item type of a paged route's list. */
export type PageItem<K extends PagedRoute> = RouteReplies[K] extends Page<infer T> ? T : never;

/** The path parameters of a route key: `{tenant_id}` -> { tenant_id: string }. */
export type RouteParams<K extends string> = K extends `${string}{${infer P}}${infer Rest}`
  ? { [name in P]: string } & RouteParams<Rest>
  : unknown;

/** `GET /tenants/{tenant_id}/x` -> method, path template, and a pattern capturing the parameters. */
export function parseRouteKey(routeKey: string): { method: string; template: string; pattern: RegExp } {
  const [method, template] = routeKey.split(" ") as [string, string];
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)").replace(/\//g, "\\/")}$`);
  return { method, template, pattern };
}

/** The path of a route with its parameters filled in (each encoded). */
export function routePath<K extends RouteKey>(route: K, params: RouteParams<K>): string {
  const values = params as Record<string, string>;
  return parseRouteKey(route).template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`route ${route} needs ${name}`);
    return encodeURIComponent(value);
  });
}
