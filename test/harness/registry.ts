import type {
  AuditEntry,
  AuditTrail,
  ConfigRepository,
  RegistryRepository,
  StoredConfig,
  StoredRegistration,
} from "../../functions/tenant-api/ports";
import { TenantConfigService } from "../../functions/tenant-api/service";

/** The audit trail in memory: entries appended as the repositories write them. */
export class MemoryAudit implements AuditTrail {
  readonly entries: AuditEntry[] = [];
  history = async (tenantId: string, limit: number) => ({
    items: this.entries
      .filter((e) => e.tenant_id === tenantId)
      .reverse()
      .slice(0, limit),
  });
}

/** Delivery configs in memory (the DynamoDB repository's behaviour, for API tests). */
export class MemoryRepo implements ConfigRepository {
  readonly items = new Map<string, StoredConfig>();
  constructor(private readonly audit: MemoryAudit = new MemoryAudit()) {}
  list = async () => ({ items: [...this.items.values()] });
  listTenant = async (t: string) => [...this.items.values()].filter((i) => i.tenant_id === t);
  get = async (t: string, type: string) => this.items.get(`${t}/${type}`);
  create = async (item: StoredConfig, audit: AuditEntry) => {
    if (this.items.has(`${item.tenant_id}/${item.type}`)) return false;
    this.items.set(`${item.tenant_id}/${item.type}`, item);
    this.audit.entries.push(audit);
    return true;
  };
  replace = async (item: StoredConfig, v: number, audit: AuditEntry) => {
    if (this.items.get(`${item.tenant_id}/${item.type}`)?.version !== v) return false;
    this.items.set(`${item.tenant_id}/${item.type}`, item);
    this.audit.entries.push(audit);
    return true;
  };
  delete = async (t: string, type: string, v: number | undefined, audit: AuditEntry) => {
    const current = this.items.get(`${t}/${type}`);
    if (!current || (v !== undefined && current.version !== v)) return false;
    this.items.delete(`${t}/${type}`);
    this.audit.entries.push(audit);
    return true;
  };
}

/** The tenant registry in memory (the DynamoDB repository's behaviour, for API tests). */
export class MemoryRegistry implements RegistryRepository {
  readonly items = new Map<string, StoredRegistration>();
  constructor(private readonly audit: MemoryAudit = new MemoryAudit()) {}

  /** Registers tenants as a platform admin would: `{ acme: ["111111111111"] }`. */
  static with(registrations: Record<string, string[]>, audit?: MemoryAudit): MemoryRegistry {
    const registry = new MemoryRegistry(audit);
    for (const [tenant_id, accounts] of Object.entries(registrations))
      registry.items.set(tenant_id, { tenant_id, accounts, updated_at: "2026-11-28T00:00:00.000Z" });
    return registry;
  }

  list = async () => ({ items: [...this.items.values()] });
  get = async (tenantId: string) => this.items.get(tenantId);
  put = async (item: StoredRegistration, audit: AuditEntry) => {
    this.items.set(item.tenant_id, item);
    this.audit.entries.push(audit);
  };
  delete = async (tenantId: string, audit: AuditEntry) => {
    if (!this.items.delete(tenantId)) return false;
    this.audit.entries.push(audit);
    return true;
  };
}

/** The service over in-memory stores (registered tenants as `MemoryRegistry.with` takes them). */
export function memoryService(registrations: Record<string, string[]> = {}, now?: () => Date) {
  const audit = new MemoryAudit();
  const configs = new MemoryRepo(audit);
  const registry = MemoryRegistry.with(registrations, audit);
  const service = new TenantConfigService({
    configs,
    registry,
    validator: { validate: async () => [] },
    audit,
    ...(now && { now }),
  });
  return { service, configs, registry, audit };
}
