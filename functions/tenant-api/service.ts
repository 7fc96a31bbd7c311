import { createHash, randomUUID } from "node:crypto";
import {
  DELIVERY_TYPE_CHOICES,
  type DeliveryConfig,
  DeliveryConfigSchema,
  isDeliveryType,
  TenantIdSchema,
} from "../shared/delivery-config";
import { accountOfRoleArn } from "../shared/patterns";
import { parseRegistration, TenantRegistrationSchema } from "../shared/tenant-registry";
import { ApiError, badRequest, conflict, notFound } from "./errors";
import type {
  AuditAction,
  AuditEntry,
  AuditTrail,
  CheckResult,
  ConfigRepository,
  DestinationValidator,
  Page,
  RegistryRepository,
  StoredConfig,
  StoredRegistration,
} from "./ports";
import type { ListedConfig } from "./routes";
import { fieldErrors, parseWritable, VersionSchema } from "./schemas";

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

function checkTenant(tenantId: string): void {
  if (!TenantIdSchema.safeParse(tenantId).success) {
    throw badRequest("invalid tenant id in path", {
      tenant_id: ["tenant_id must be a DNS label: a-z, 0-9 and '-', 1-63 characters"],
    });
  }
}

function pageSize(limitText?: string): number {
  const limit = limitText === undefined ? DEFAULT_PAGE_SIZE : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw badRequest("invalid limit", { limit: [`must be an integer from 1 to ${MAX_PAGE_SIZE}`] });
  }
  return limit;
}

function checkType(type: string): void {
  if (!isDeliveryType(type))
    throw badRequest("invalid type in path", { type: [`must be ${DELIVERY_TYPE_CHOICES}`] });
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("the body must be a JSON object");
  return body as Record<string, unknown>;
}

/** Stored items read back through the shared schema; a corrupt one is reported, not served as valid. */
function readStored(item: Record<string, unknown>): StoredConfig {
  const parsed = DeliveryConfigSchema.safeParse(item);
  if (!parsed.success) {
    throw new ApiError(
      500,
      "CorruptItem",
      `stored config ${item.tenant_id}/${item.type} does not match the schema`,
    );
  }
  return {
    ...parsed.data,
    created_at: String(item.created_at ?? ""),
    updated_at: String(item.updated_at ?? ""),
    version: Number(item.version ?? 0),
  };
}

const withoutSecret = ({ external_id: _secret, ...rest }: StoredConfig): ListedConfig => rest;

/** What the service works with: the stores, the destination checks, and the clock. */
export interface TenantServiceDeps {
  readonly configs: ConfigRepository;
  readonly registry: RegistryRepository;
  readonly validator: DestinationValidator;
  readonly audit: AuditTrail;
  readonly now?: () => Date;
}

/** An ExternalId as the audit trail shows it: a fingerprint, so a change is visible and the secret is not. */
export function maskedExternalId(externalId: string): string {
  return `masked:${createHash("sha256").update(externalId).digest("hex").slice(0, 8)}`;
}

const masked = (item: Record<string, unknown> | undefined) =>
  item && typeof item.external_id === "string"
    ? { ...item, external_id: maskedExternalId(item.external_id) }
    : item;

/**
 * The delivery-config and registry operations, shared by the HTTP API, the local server and the
 * CLI's direct mode. The tenant in the path wins: a different tenant_id in the body is a 400. A
 * config may only name an account the tenant is registered for. Every write records who made it,
 * when, and the item before and after (ExternalIds masked) in the audit trail, with the change.
 */
export class TenantConfigService {
  private readonly repo: ConfigRepository;
  private readonly registry: RegistryRepository;
  private readonly validator: DestinationValidator;
  private readonly audit: AuditTrail;
  private readonly now: () => Date;

  constructor(deps: TenantServiceDeps) {
    this.repo = deps.configs;
    this.registry = deps.registry;
    this.validator = deps.validator;
    this.audit = deps.audit;
    this.now = deps.now ?? (() => new Date());
  }

  /** A tenant's audit trail, newest first. */
  async history(tenantId: string, limitText?: string, cursor?: string): Promise<Page<AuditEntry>> {
    checkTenant(tenantId);
    return this.audit.history(tenantId, pageSize(limitText), cursor);
  }

  private entry(
    tenantId: string,
    actor: string,
    action: AuditAction,
    target: string,
    before: Record<string, unknown> | undefined,
    after: Record<string, unknown> | undefined,
  ): AuditEntry {
    return {
      tenant_id: tenantId,
      at: this.now().toISOString(),
      id: randomUUID(),
      actor,
      action,
      target,
      ...(before && { before: masked(before) }),
      ...(after && { after: masked(after) }),
    };
  }

  async listRegistrations(limitText?: string, cursor?: string): Promise<Page<StoredRegistration>> {
    const page = await this.registry.list(pageSize(limitText), cursor);
    return {
      items: page.items.map((item) => this.readRegistration(item)),
      ...(page.cursor && { cursor: page.cursor }),
    };
  }

  async getRegistration(tenantId: string): Promise<StoredRegistration> {
    checkTenant(tenantId);
    const item = await this.registry.get(tenantId);
    if (!item) throw notFound(`registration of tenant ${tenantId}`);
    return this.readRegistration(item);
  }

  /** Registers (or re-registers) a tenant: its accounts and, optionally, its clusters. */
  async register(tenantId: string, body: unknown, actor: string): Promise<StoredRegistration> {
    checkTenant(tenantId);
    const input = this.forTenant(tenantId, asObject(body));
    const parsed = TenantRegistrationSchema.safeParse(input);
    if (!parsed.success) throw badRequest("invalid registration", fieldErrors(parsed.error));
    const before = await this.registry.get(tenantId);
    const stored = { ...parsed.data, updated_at: this.now().toISOString() };
    await this.registry.put(
      stored,
      this.entry(tenantId, actor, "registry.put", "registration", before, stored),
    );
    return stored;
  }

  async unregister(tenantId: string, actor: string): Promise<void> {
    checkTenant(tenantId);
    const before = await this.registry.get(tenantId);
    const audit = this.entry(tenantId, actor, "registry.delete", "registration", before, undefined);
    if (!before || !(await this.registry.delete(tenantId, audit)))
      throw notFound(`registration of tenant ${tenantId}`);
  }

  async listAll(limitText?: string, cursor?: string): Promise<Page<ListedConfig>> {
    const page = await this.repo.list(pageSize(limitText), cursor);
    return {
      items: page.items.map((item) => withoutSecret(readStored(item))),
      ...(page.cursor && { cursor: page.cursor }),
    };
  }

  async listTenant(tenantId: string): Promise<ListedConfig[]> {
    checkTenant(tenantId);
    return (await this.repo.listTenant(tenantId)).map((item) => withoutSecret(readStored(item)));
  }

  async get(tenantId: string, type: string): Promise<StoredConfig> {
    checkTenant(tenantId);
    checkType(type);
    const item = await this.repo.get(tenantId, type);
    if (!item) throw notFound(`delivery config ${tenantId}/${type}`);
    return readStored(item);
  }

  async create(tenantId: string, body: unknown, actor: string): Promise<StoredConfig> {
    checkTenant(tenantId);
    const input = this.forTenant(tenantId, asObject(body));
    const config = parseWritable(input);
    await this.assertRegistered(tenantId, config.log_distribution_role_arn);
    const at = this.now().toISOString();
    const stored = { ...this.complete(tenantId, config), created_at: at, updated_at: at, version: 1 };
    const audit = this.entry(tenantId, actor, "config.create", `config:${stored.type}`, undefined, stored);
    if (!(await this.repo.create(stored, audit))) {
      throw conflict(
        `delivery config ${tenantId}/${config.type} already exists: use PUT or PATCH with its version`,
      );
    }
    return stored;
  }

  async replace(tenantId: string, type: string, body: unknown, actor: string): Promise<StoredConfig> {
    const current = await this.get(tenantId, type);
    const { version, ...rest } = asObject(body);
    const next = { ...this.forTenant(tenantId, rest), type: rest.type ?? type };
    return this.write(current, next, version, (stored) =>
      this.entry(tenantId, actor, "config.replace", `config:${type}`, current, stored),
    );
  }

  async patch(tenantId: string, type: string, body: unknown, actor: string): Promise<StoredConfig> {
    const current = await this.get(tenantId, type);
    const { version, ...changes } = asObject(body);
    const { created_at: _c, updated_at: _u, version: _v, ...base } = current;
    const next = { ...base, ...this.forTenant(tenantId, changes), type: changes.type ?? type };
    return this.write(current, next, version, (stored) =>
      this.entry(tenantId, actor, "config.patch", `config:${type}`, current, stored),
    );
  }

  async remove(
    tenantId: string,
    type: string,
    versionText: string | undefined,
    actor: string,
  ): Promise<void> {
    checkTenant(tenantId);
    checkType(type);
    let expected: number | undefined;
    if (versionText !== undefined) {
      expected = Number(versionText);
      if (!Number.isInteger(expected) || expected < 0)
        throw badRequest("invalid version", { version: ["must be a whole number"] });
    }
    const before = await this.repo.get(tenantId, type);
    const audit = this.entry(tenantId, actor, "config.delete", `config:${type}`, before, undefined);
    if (!before || !(await this.repo.delete(tenantId, type, expected, audit))) {
      if (await this.repo.get(tenantId, type))
        throw conflict(`delivery config ${tenantId}/${type} has changed since version ${expected}`);
      throw notFound(`delivery config ${tenantId}/${type}`);
    }
  }

  async validate(tenantId: string, type: string): Promise<{ ok: boolean; checks: CheckResult[] }> {
    const config = await this.get(tenantId, type);
    const checks = await this.validator.validate(config);
    return { ok: checks.every((c) => c.ok), checks };
  }

  private forTenant(tenantId: string, body: Record<string, unknown>): Record<string, unknown> {
    if (body.tenant_id !== undefined && body.tenant_id !== tenantId) {
      throw badRequest("tenant_id in the body differs from the path", {
        tenant_id: [`must be ${tenantId} (from the path) or absent`],
      });
    }
    for (const field of ["created_at", "updated_at"]) {
      if (body[field] !== undefined)
        throw badRequest("server-owned field in body", { [field]: ["is set by the server"] });
    }
    return { ...body, tenant_id: tenantId };
  }

  /** Where a tenant's logs may go is the registry's word: a config may name only its accounts. */
  private async assertRegistered(tenantId: string, roleArn: string): Promise<void> {
    const item = await this.registry.get(tenantId);
    if (!item) {
      throw badRequest(`tenant ${tenantId} is not registered`, {
        tenant_id: [
          `${tenantId} is not registered: a platform admin registers it (logrelay tenants register)`,
        ],
      });
    }
    const { accounts } = this.readRegistration(item);
    const account = accountOfRoleArn(roleArn);
    if (!accounts.includes(account)) {
      throw badRequest(`account ${account} is not registered for tenant ${tenantId}`, {
        log_distribution_role_arn: [
          `account ${account} is not one of tenant ${tenantId}'s registered accounts (${accounts.join(", ")})`,
        ],
      });
    }
  }

  private readRegistration(item: Record<string, unknown>): StoredRegistration {
    const read = parseRegistration(item);
    if (!read.ok) {
      throw new ApiError(
        500,
        "CorruptItem",
        `stored registration of ${item.tenant_id} does not match the schema`,
      );
    }
    return { ...read.registration, updated_at: String(item.updated_at ?? "") };
  }

  private complete(tenantId: string, config: ReturnType<typeof parseWritable>): DeliveryConfig {
    return DeliveryConfigSchema.parse({ ...config, tenant_id: tenantId });
  }

  private async write(
    current: StoredConfig,
    body: Record<string, unknown>,
    version: unknown,
    audit: (stored: StoredConfig) => AuditEntry,
  ): Promise<StoredConfig> {
    const expected = VersionSchema.safeParse(version);
    if (!expected.success) {
      throw new ApiError(
        428,
        "PreconditionRequired",
        "send the version you read, so a concurrent change is not overwritten",
        {
          version: [expected.error.issues[0]!.message],
        },
      );
    }
    if (body.type !== current.type)
      throw badRequest("type cannot change", { type: [`must be ${current.type}`] });
    const config = parseWritable(body);
    await this.assertRegistered(current.tenant_id, config.log_distribution_role_arn);
    const stored = {
      ...this.complete(current.tenant_id, config),
      created_at: current.created_at,
      updated_at: this.now().toISOString(),
      version: expected.data + 1,
    };
    if (!(await this.repo.replace(stored, expected.data, audit(stored)))) {
      throw conflict(
        `delivery config ${current.tenant_id}/${current.type} was changed by someone else (you sent version ${expected.data}): read it again`,
      );
    }
    return stored;
  }
}
