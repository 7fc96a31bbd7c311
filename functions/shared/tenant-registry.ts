import * as z from "zod";
import { AccountIdSchema, describeIssues, TenantIdSchema } from "./delivery-config";
import { KEY_SEGMENT_PATTERN } from "./patterns";

/**
 * The platform's own record of a tenant: the AWS accounts its logs may go to and, optionally, the
 * clusters allowed to carry its logs. Kept apart from delivery configs (which tenants edit) and
 * written only by platform admins: a config naming another account is refused by the API and by
 * the distributor.
 */
export const TenantRegistrationSchema = z
  .object({
    tenant_id: TenantIdSchema,
    accounts: z.array(AccountIdSchema).min(1, "at least one account").max(100),
    /** When set, only these clusters may carry the tenant's logs. */
    clusters: z
      .array(z.string().regex(KEY_SEGMENT_PATTERN, "must be a cluster id"))
      .min(1, "at least one cluster when set")
      .max(1000)
      .optional(),
  })
  .strict();

export type TenantRegistration = z.infer<typeof TenantRegistrationSchema>;

/**
 * A stored registration read back (the server-owned `updated_at` set aside): the registration, or
 * what is wrong with it. One reading for the distributor and the API.
 */
export function parseRegistration(
  item: Record<string, unknown>,
): { ok: true; registration: TenantRegistration } | { ok: false; problems: string[] } {
  const { updated_at: _serverOwned, ...rest } = item;
  const parsed = TenantRegistrationSchema.safeParse(rest);
  return parsed.success
    ? { ok: true, registration: parsed.data }
    : { ok: false, problems: describeIssues(parsed.error) };
}

/** Why a delivery is refused by the registry, or undefined when it may go ahead. */
export function registryRefusal(
  tenantId: string,
  registration: TenantRegistration | undefined,
  target: { accountId?: string; clusterId?: string },
): string | undefined {
  if (!registration) return `tenant ${tenantId} is not registered (logrelay tenants register)`;
  if (
    target.clusterId !== undefined &&
    registration.clusters &&
    !registration.clusters.includes(target.clusterId)
  )
    return `cluster ${target.clusterId} may not carry tenant ${tenantId}'s logs (registered clusters: ${registration.clusters.join(", ")})`;
  if (target.accountId !== undefined && !registration.accounts.includes(target.accountId))
    return `account ${target.accountId} is not registered for tenant ${tenantId} (registered: ${registration.accounts.join(", ")})`;
  return undefined;
}
