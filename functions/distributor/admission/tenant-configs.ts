import { type DeliveryConfig, DeliveryConfigSchema, describeIssues } from "../../shared/delivery-config";
import { PromiseCache } from "../../shared/promise-cache";
import { parseRegistration, type TenantRegistration } from "../../shared/tenant-registry";
import type { ConfigSource, RegistrySource } from "../ports";

/** A config item that failed validation: it fails only itself, the tenant's others still deliver. */
export interface InvalidConfig {
  readonly type: string;
  readonly problems: string[];
}

export interface TenantConfigs {
  readonly valid: DeliveryConfig[];
  readonly invalid: InvalidConfig[];
}

export function validateConfigItems(tenantId: string, items: Record<string, unknown>[]): TenantConfigs {
  const valid: DeliveryConfig[] = [];
  const invalid: InvalidConfig[] = [];
  for (const item of items) {
    const parsed = DeliveryConfigSchema.safeParse(item);
    if (!parsed.success) {
      invalid.push({ type: String(item.type ?? "(missing)"), problems: describeIssues(parsed.error) });
    } else if (parsed.data.tenant_id !== tenantId) {
      invalid.push({
        type: parsed.data.type,
        problems: [`tenant_id: item belongs to ${parsed.data.tenant_id}`],
      });
    } else valid.push(parsed.data);
  }
  return { valid, invalid };
}

/** Each tenant's configs, validated, cached for `ttlMs`. */
export class CachedTenantConfigs {
  private readonly cache: PromiseCache<TenantConfigs>;

  constructor(
    private readonly source: ConfigSource,
    ttlMs: number,
    now: () => number = Date.now,
  ) {
    this.cache = new PromiseCache(ttlMs, now);
  }

  forTenant(tenantId: string): Promise<TenantConfigs> {
    return this.cache.get(tenantId, () =>
      this.source.itemsFor(tenantId).then((items) => validateConfigItems(tenantId, items)),
    );
  }
}

/**
 * Each tenant's registration, cached for `ttlMs`, unknown tenants too (negative caching: thousands
 * of tenants without a registration cost one read each per TTL). A stored item that does not pass
 * the schema counts as no registration (fail closed) and is reported once per read.
 */
export class CachedRegistry {
  private readonly cache: PromiseCache<TenantRegistration | undefined>;

  constructor(
    private readonly source: RegistrySource,
    ttlMs: number,
    private readonly onInvalid: (tenantId: string, problems: string[]) => void = () => {},
    now: () => number = Date.now,
  ) {
    this.cache = new PromiseCache(ttlMs, now);
  }

  forTenant(tenantId: string): Promise<TenantRegistration | undefined> {
    return this.cache.get(tenantId, async () => {
      const item = await this.source.registrationOf(tenantId);
      if (item === undefined) return undefined;
      const read = parseRegistration(item);
      if (read.ok && read.registration.tenant_id === tenantId) return read.registration;
      this.onInvalid(tenantId, read.ok ? ["tenant_id does not match"] : read.problems);
      return undefined;
    });
  }
}
