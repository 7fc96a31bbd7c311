import {
  DELIVERY_TYPE_CHOICES,
  describeIssues,
  destinationName,
  isDeliveryType,
} from "../functions/shared/delivery-config";
import type { StoredConfig, StoredRegistration } from "../functions/tenant-api/ports";
import type { ListedConfig } from "../functions/tenant-api/routes";
import { WritableConfigSchema } from "../functions/tenant-api/schemas";
import type { ApiClient, DryRun } from "./api-client";
import { CliError } from "./io";

/**
 * What `logrelay tenants` and `logrelay onboard` do with the tenant API, by route: the commands
 * (cli/commands/) parse options and print; this module calls.
 */

/** Every tenant's configs (every page), or one tenant's. */
export function listConfigs(
  api: ApiClient,
  tenant?: string,
  onPage?: (count: number, more: boolean) => void,
) {
  if (tenant === undefined) return api.all("GET /delivery-configs", {}, onPage);
  return api.call("GET /tenants/{tenant_id}/delivery-configs", { tenant_id: tenant }).then((r) => r.items);
}

export function getConfig(api: ApiClient, tenant: string, type: string): Promise<StoredConfig> {
  return api.call("GET /tenants/{tenant_id}/delivery-configs/{type}", { tenant_id: tenant, type });
}

/** In a dry run, a config body is checked with the API's own schema: what it would refuse is said now. */
function checkWritable(api: ApiClient, body: Record<string, unknown>): void {
  if (!api.dryRun) return;
  const { version: _version, ...config } = body;
  const checked = WritableConfigSchema.safeParse(config);
  if (!checked.success)
    throw new CliError(`the config would be refused: ${describeIssues(checked.error).join("; ")}`, 2);
}

/** Creates a config, or with `version` replaces the one at that version. */
export function putConfig(
  api: ApiClient,
  tenant: string,
  body: Record<string, unknown>,
  version?: number,
): Promise<StoredConfig | DryRun> {
  checkWritable(api, body);
  if (version === undefined)
    return api.write("POST /tenants/{tenant_id}/delivery-configs", { tenant_id: tenant }, { body });
  const type = String(body.type);
  if (!isDeliveryType(type))
    throw new CliError(
      `the file's type must be ${DELIVERY_TYPE_CHOICES}, got ${JSON.stringify(body.type)}`,
      2,
    );
  return api.write(
    "PUT /tenants/{tenant_id}/delivery-configs/{type}",
    { tenant_id: tenant, type },
    { body: { ...body, version } },
  );
}

export function patchConfig(
  api: ApiClient,
  tenant: string,
  type: string,
  changes: Record<string, unknown>,
  version: number,
): Promise<StoredConfig | DryRun> {
  if (Object.keys(changes).length === 0) throw new CliError("nothing to change: pass --set key=value", 2);
  return api.write(
    "PATCH /tenants/{tenant_id}/delivery-configs/{type}",
    { tenant_id: tenant, type },
    { body: { ...changes, version } },
  );
}

export function deleteConfig(api: ApiClient, tenant: string, type: string, version?: number) {
  return api.write(
    "DELETE /tenants/{tenant_id}/delivery-configs/{type}",
    { tenant_id: tenant, type },
    { query: { version: version === undefined ? undefined : String(version) } },
  );
}

export function validateConfig(api: ApiClient, tenant: string, type: string) {
  return api.call("POST /tenants/{tenant_id}/delivery-configs/{type}/validate", { tenant_id: tenant, type });
}

export function register(
  api: ApiClient,
  tenant: string,
  accounts: string[],
  clusters?: string[],
): Promise<StoredRegistration | DryRun> {
  return api.write(
    "PUT /registry/{tenant_id}",
    { tenant_id: tenant },
    { body: { accounts, ...(clusters && { clusters }) } },
  );
}

/**
 * Adds an account to a tenant's registration (creating it), keeping its other accounts and its
 * clusters: what onboarding does. Returns the registered accounts.
 */
export async function addAccount(api: ApiClient, tenant: string, account: string): Promise<string[]> {
  const known = await api.find("GET /registry/{tenant_id}", { tenant_id: tenant });
  const accounts = [...new Set([...(known?.accounts ?? []), account])];
  await api.call(
    "PUT /registry/{tenant_id}",
    { tenant_id: tenant },
    { body: { accounts, ...(known?.clusters && { clusters: known.clusters }) } },
  );
  return accounts;
}

export const unregister = (api: ApiClient, tenant: string) =>
  api.write("DELETE /registry/{tenant_id}", { tenant_id: tenant });

export const registrations = (api: ApiClient) => api.all("GET /registry", {});

/** A tenant's audit trail, newest first (every page). */
export const history = (api: ApiClient, tenant: string) =>
  api.all("GET /tenants/{tenant_id}/history", { tenant_id: tenant });

/**
 * `--set key=value`: JSON values where they parse (true, 3, ["a"]), strings otherwise;
 * `--set-string key=value`: always the string (a log group named `12` stays "12").
 */
export function parseAssignments(pairs: string[], strings: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const split = (pair: string, option: string) => {
    const i = pair.indexOf("=");
    if (i <= 0) throw new CliError(`${option} takes key=value, got ${JSON.stringify(pair)}`, 2);
    return [pair.slice(0, i), pair.slice(i + 1)] as const;
  };
  for (const pair of pairs) {
    const [key, raw] = split(pair, "--set");
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[key] = value;
  }
  for (const pair of strings) {
    const [key, raw] = split(pair, "--set-string");
    out[key] = raw;
  }
  return out;
}

/** Where a config's logs go, as the list shows it. */
export function configTarget(c: ListedConfig): string {
  return destinationName(c);
}
