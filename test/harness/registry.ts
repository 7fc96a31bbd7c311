import type { RegistryRepository, StoredRegistration } from "../../functions/tenant-api/ports";

/** The tenant registry in memory (the DynamoDB repository's behaviour, for API tests). */
export class MemoryRegistry implements RegistryRepository {
  readonly items = new Map<string, StoredRegistration>();

  /** Registers tenants as a platform admin would: `{ acme: ["111111111111"] }`. */
  static with(registrations: Record<string, string[]>): MemoryRegistry {
    const registry = new MemoryRegistry();
    for (const [tenant_id, accounts] of Object.entries(registrations))
      registry.items.set(tenant_id, { tenant_id, accounts, updated_at: "2026-11-28T00:00:00.000Z" });
    return registry;
  }

  list = async () => ({ items: [...this.items.values()] });
  get = async (tenantId: string) => this.items.get(tenantId);
  put = async (item: StoredRegistration) => {
    this.items.set(item.tenant_id, item);
  };
  delete = async (tenantId: string) => this.items.delete(tenantId);
}
