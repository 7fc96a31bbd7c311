import { type DeliveryConfig, DeliveryConfigSchema, describeIssues } from "../shared/delivery-config";
import { type TenantRegistration, TenantRegistrationSchema } from "../shared/tenant-registry";
import type { ConfigSource, RegistrySource } from "./ports";

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

/**
 * Caches each tenant's configs for `ttlMs` (0 disables). Concurrent lookups of one tenant share
 * one request; a failed lookup is not cached.
 */
export class CachedTenantConfigs {
  private readonly entries = new Map<string, { at: number; value: Promise<TenantConfigs> }>();

  constructor(
    private readonly source: ConfigSource,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  forTenant(tenantId: string): Promise<TenantConfigs> {
    const hit = this.entries.get(tenantId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.source.itemsFor(tenantId).then((items) => validateConfigItems(tenantId, items));
    if (this.ttlMs > 0) {
      this.entries.set(tenantId, { at: this.now(), value });
      value.catch(() => this.entries.delete(tenantId));
    }
    return value;
  }
}

/**
 * Caches each tenant's registration for `ttlMs`, unknown tenants too (negative caching: thousands
 * of tenants without a registration cost one read each per TTL). A stored item that does not pass
 * the schema counts as no registration (fail closed) and is reported once per read.
 */
export class CachedRegistry {
  private readonly entries = new Map<
    string,
    { at: number; value: Promise<TenantRegistration | undefined> }
  >();

  constructor(
    private readonly source: RegistrySource,
    private readonly ttlMs: number,
    private readonly onInvalid: (tenantId: string, problems: string[]) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  forTenant(tenantId: string): Promise<TenantRegistration | undefined> {
    const hit = this.entries.get(tenantId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.source.registrationOf(tenantId).then((item) => {
      if (item === undefined) return undefined;
      const { updated_at: _serverOwned, ...registration } = item;
      const parsed = TenantRegistrationSchema.safeParse(registration);
      if (parsed.success && parsed.data.tenant_id === tenantId) return parsed.data;
      this.onInvalid(tenantId, parsed.success ? ["tenant_id does not match"] : describeIssues(parsed.error));
      return undefined;
    });
    if (this.ttlMs > 0) {
      this.entries.set(tenantId, { at: this.now(), value });
      value.catch(() => this.entries.delete(tenantId));
    }
    return value;
  }
}
