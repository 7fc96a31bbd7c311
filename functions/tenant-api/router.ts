import { ApiError, badRequest } from "./errors";
import { parseRouteKey, type RouteKey, type RouteReplies, successStatus } from "./routes";
import type { TenantConfigService } from "./service";

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | undefined>;
  readonly body?: string;
  /** Who calls: the caller's IAM ARN (API Gateway's IAM authorizer), or the local principal. */
  readonly actor?: string;
}

/** The actor of a request that names none (never for the deployed API: IAM authorizes every route). */
export const UNKNOWN_ACTOR = "(unknown caller)";

export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
  /** For the access log line: the route matched and the tenant, never payloads. */
  readonly route: string;
  readonly tenantId?: string;
}

type Handler<K extends RouteKey = RouteKey> = (
  params: string[],
  req: ApiRequest,
  json: () => unknown,
) => Promise<RouteReplies[K]>;

const actorOf = (req: ApiRequest) => req.actor ?? UNKNOWN_ACTOR;

/**
 * Routes of the delivery-config and registry API, one handler
 * per route key of ./routes.ts: the type makes the table complete and each reply the type the
 * client expects; the stack deploys the same keys.
 */
export function makeRouter(service: TenantConfigService) {
  const handlers: { [K in RouteKey]: Handler<K> } = {
    "GET /delivery-configs": (_p, r) => service.listAll(r.query.limit, r.query.cursor),
    "GET /tenants/{tenant_id}/delivery-configs": async ([t]) => ({ items: await service.listTenant(t!) }),
    "POST /tenants/{tenant_id}/delivery-configs": ([t], r, json) => service.create(t!, json(), actorOf(r)),
    "GET /tenants/{tenant_id}/delivery-configs/{type}": ([t, type]) => service.get(t!, type!),
    "PUT /tenants/{tenant_id}/delivery-configs/{type}": ([t, type], r, json) =>
      service.replace(t!, type!, json(), actorOf(r)),
    "PATCH /tenants/{tenant_id}/delivery-configs/{type}": ([t, type], r, json) =>
      service.patch(t!, type!, json(), actorOf(r)),
    "DELETE /tenants/{tenant_id}/delivery-configs/{type}": async ([t, type], r) => {
      await service.remove(t!, type!, r.query.version, actorOf(r));
      return undefined;
    },
    "POST /tenants/{tenant_id}/delivery-configs/{type}/validate": ([t, type]) => service.validate(t!, type!),
    "GET /tenants/{tenant_id}/history": ([t], r) => service.history(t!, r.query.limit, r.query.cursor),
    "GET /registry": (_p, r) => service.listRegistrations(r.query.limit, r.query.cursor),
    "GET /registry/{tenant_id}": ([t]) => service.getRegistration(t!),
    "PUT /registry/{tenant_id}": ([t], r, json) => service.register(t!, json(), actorOf(r)),
    "DELETE /registry/{tenant_id}": async ([t], r) => {
      await service.unregister(t!, actorOf(r));
      return undefined;
    },
  };
  // Grouped by path template, so a known path with another method answers 405, not 404.
  const byTemplate = new Map<string, { pattern: RegExp; methods: Record<string, [RouteKey, Handler]> }>();
  for (const [routeKey, handler] of Object.entries(handlers) as [RouteKey, Handler][]) {
    const { method, template, pattern } = parseRouteKey(routeKey);
    const entry = byTemplate.get(template) ?? { pattern, methods: {} };
    entry.methods[method] = [routeKey, handler];
    byTemplate.set(template, entry);
  }
  const routes = [...byTemplate].map(([name, { pattern, methods }]) => [name, pattern, methods] as const);

  const route = async function route(req: ApiRequest): Promise<ApiResponse> {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, "") : req.path;
    for (const [name, pattern, methods] of routes) {
      const match = pattern.exec(path);
      if (!match) continue;
      const params = match.slice(1).map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          return p;
        }
      });
      const tenantId = name.startsWith("/tenants") ? params[0] : undefined;
      const found = methods[req.method.toUpperCase()];
      if (!found) {
        return {
          status: 405,
          route: name,
          ...(tenantId && { tenantId }),
          body: new ApiError(
            405,
            "MethodNotAllowed",
            `${req.method} is not allowed on ${name}; use ${Object.keys(methods).join(", ")}`,
          ).toBody(),
        };
      }
      const json = () => {
        if (req.body === undefined || req.body.trim() === "") throw badRequest("a JSON body is required");
        try {
          return JSON.parse(req.body);
        } catch (e) {
          throw badRequest(`the body is not valid JSON: ${(e as Error).message}`);
        }
      };
      try {
        const [routeKey, handler] = found;
        const body = await handler(params, req, json);
        return {
          status: successStatus(routeKey),
          ...(body !== undefined && { body }),
          route: name,
          ...(tenantId && { tenantId }),
        };
      } catch (error) {
        if (error instanceof ApiError)
          return { status: error.status, body: error.toBody(), route: name, ...(tenantId && { tenantId }) };
        throw error;
      }
    }
    return {
      status: 404,
      route: "(none)",
      body: new ApiError(404, "NotFound", `no route for ${req.method} ${req.path}`).toBody(),
    };
  };
  /** The route keys this router serves. */
  return Object.assign(route, { routeKeys: Object.keys(handlers) });
}
