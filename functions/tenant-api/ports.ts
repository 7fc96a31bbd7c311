import type { DeliveryConfig } from "../shared/delivery-config";
import type { TenantRegistration } from "../shared/tenant-registry";

/** A stored delivery config with the fields the server owns. */
export type StoredConfig = DeliveryConfig & { created_at: string; updated_at: string; version: number };

export interface Page<T> {
  readonly items: T[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

/** Delivery-config storage. Writes are conditional; a failed condition is reported, not thrown as-is. */
export interface ConfigRepository {
  list(limit: number, cursor?: string): Promise<Page<Record<string, unknown>>>;
  listTenant(tenantId: string): Promise<Record<string, unknown>[]>;
  get(tenantId: string, type: string): Promise<Record<string, unknown> | undefined>;
  /** Returns false when an item with that key already exists. */
  create(item: StoredConfig): Promise<boolean>;
  /** Returns false unless the stored version equals `expectedVersion`. */
  replace(item: StoredConfig, expectedVersion: number): Promise<boolean>;
  /** Returns false when the item is missing or (with a version) its version differs. */
  delete(tenantId: string, type: string, expectedVersion?: number): Promise<boolean>;
}

/** A tenant's registration with the time it was last written. */
export type StoredRegistration = TenantRegistration & { updated_at: string };

/** The tenant registry (platform admins only: the API's registry routes). */
export interface RegistryRepository {
  list(limit: number, cursor?: string): Promise<Page<Record<string, unknown>>>;
  get(tenantId: string): Promise<Record<string, unknown> | undefined>;
  put(item: StoredRegistration): Promise<void>;
  /** Returns false when there was nothing to delete. */
  delete(tenantId: string): Promise<boolean>;
}

export type { CheckResult, DestinationValidator } from "../shared/destination-checks";
