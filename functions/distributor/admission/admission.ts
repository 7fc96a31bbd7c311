import { registryRefusal, type TenantRegistration } from "../../shared/tenant-registry";
import { InvalidConfigError, MalformedMessageError, NotRegisteredError, outcomeOf } from "../errors";
import type { ObjectRef } from "../intake/notification";
import { countsOf } from "../model/counts";
import type { DestinationResult, ObjectResult, OutcomeReport } from "../reporting/outcome-report";
import { type LogObjectKey, parseObjectKey } from "./object-key";
import type { CachedRegistry, CachedTenantConfigs, TenantConfigs } from "./tenant-configs";

export interface AdmissionDeps {
  /** The only buckets objects may come from. @default any */
  readonly stagingBuckets?: readonly string[];
  readonly registry: CachedRegistry;
  readonly configs: CachedTenantConfigs;
  readonly report: OutcomeReport;
}

type Refused = Pick<ObjectResult, "status" | "reason" | "tenantId">;

export type Admission =
  | { readonly admitted: false; readonly outcome: Refused }
  | {
      readonly admitted: true;
      readonly key: LogObjectKey;
      readonly registration: TenantRegistration;
      readonly configs: TenantConfigs;
      /** Configs that fail the schema: each fails only itself. */
      readonly invalid: DestinationResult[];
    };

/**
 * What may be delivered, decided before any object read or customer-side call: an object of a
 * staging bucket, with a valid key, of a registered tenant, from a cluster the tenant allows,
 * with configs. Every refusal comes with its outcome.
 */
export async function admit(ref: ObjectRef, deps: AdmissionDeps): Promise<Admission> {
  const refuse = (outcome: Refused): Admission => ({ admitted: false, outcome });
  const allowed = deps.stagingBuckets;
  if (allowed && !allowed.includes(ref.bucket)) {
    const error = new MalformedMessageError(
      `bucket ${ref.bucket} is not a staging bucket of this distributor (${allowed.join(", ")}): notification refused`,
    );
    return refuse(outcomeOf(error));
  }
  let key: LogObjectKey;
  try {
    key = parseObjectKey(ref.key);
  } catch (error) {
    return refuse(outcomeOf(error));
  }
  const tenantId = key.tenantId;
  let configs: TenantConfigs;
  let registration: TenantRegistration | undefined;
  try {
    [registration, configs] = await Promise.all([
      deps.registry.forTenant(tenantId),
      deps.configs.forTenant(tenantId),
    ]);
  } catch (error) {
    const { status, reason } = outcomeOf(error);
    return refuse({ tenantId, status, reason: `reading the registry and configs: ${reason}` });
  }
  const refused = registryRefusal(tenantId, registration, { clusterId: key.clusterId });
  if (refused || !registration) {
    deps.report.registryRefusal(tenantId);
    return refuse({ tenantId, ...outcomeOf(new NotRegisteredError(refused)) });
  }
  if (configs.valid.length === 0 && configs.invalid.length === 0) {
    return refuse({ tenantId, status: "skipped", reason: "tenant has no delivery config" });
  }
  const invalid: DestinationResult[] = configs.invalid.map((c) => ({
    ...countsOf(),
    type: c.type,
    target: "(invalid config)",
    ...outcomeOf(new InvalidConfigError(c.problems.join("; "))),
  }));
  return { admitted: true, key, registration, configs, invalid };
}
