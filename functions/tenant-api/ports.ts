import type { DeliveryConfig } from "../shared/delivery-config";
import type { TenantRegistration } from "../shared/tenant-registry";

/** A stored delivery config with the fields the server owns. */
export type StoredConfig = DeliveryConfig & { created_at: string; updated_at: string; version: number };

export interface Page<T> {
  readonly items: T[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

/** What a change did, as the audit trail names it. */
export type AuditAction =
  | "config.create"
  | "config.replace"
  | "config.patch"
  | "config.delete"
  | "registry.put"
  | "registry.delete";

/**
 * One change to where a tenant's logs go: who (the caller's IAM ARN, or the local principal in
 * direct mode), when, what, and the item before and after it (ExternalIds masked). Append-only.
 */
export interface AuditEntry {
  readonly tenant_id: string;
  /** When (ISO), and a random id after it: the entry's sort key, newest last. */
  readonly at: string;
  readonly id: string;
  readonly actor: string;
  readonly action: AuditAction;
  /** `config:<type>` or `registration`. */
  readonly target: string;
  readonly before?: Record<string, unknown>;
  readonly after?: Record<string, unknown>;
}

/** The audit trail's reads (each change writes its entry with it, in one transaction). */
export interface AuditTrail {
  /** A tenant's entries, newest first. */
  history(tenantId: string, limit: number, cursor?: string): Promise<Page<AuditEntry>>;
}

/**
 * Delivery-config storage. Writes are conditional; a failed condition is reported, not thrown
 * as-is. Each write stores its audit entry with it, atomically: a change is never without its entry.
 */
export interface ConfigRepository {
  list(limit: number, cursor?: string): Promise<Page<Record<string, unknown>>>;
  listTenant(tenantId: string): Promise<Record<string, unknown>[]>;
  get(tenantId: string, type: string): Promise<Record<string, unknown> | undefined>;
  /** Returns false when an item with that key already exists. */
  create(item: StoredConfig, audit: AuditEntry): Promise<boolean>;
  /** Returns false unless the stored version equals `expectedVersion`. */
  replace(item: StoredConfig, expectedVersion: number, audit: AuditEntry): Promise<boolean>;
  /** Returns false when the item is missing or (with a version) its version differs. */
  delete(
    tenantId: string,
    type: string,
    expectedVersion: number | undefined,
    audit: AuditEntry,
  ): Promise<boolean>;
}

/** A tenant's registration with the time it was last written. */
export type StoredRegistration = TenantRegistration & { updated_at: string };

/** The tenant registry (platform admins only: the API's registry routes). */
export interface RegistryRepository {
  list(limit: number, cursor?: string): Promise<Page<Record<string, unknown>>>;
  get(tenantId: string): Promise<Record<string, unknown> | undefined>;
  put(item: StoredRegistration, audit: AuditEntry): Promise<void>;
  /** Returns false when there was nothing to delete. */
  delete(tenantId: string, audit: AuditEntry): Promise<boolean>;
}

export type { CheckResult, DestinationValidator } from "../shared/destination-checks";
