import * as z from "zod";
import { ENV, TENANT_API_SERVICE } from "../shared/contract";
import { loadSettingsWith, setting } from "../shared/settings";

/** The API needs the tables, the central role (for validate), the audit trail and the region. */
const ApiSettingsSchema = z.object({
  [ENV.region]: setting.region,
  [ENV.configTable]: setting.name,
  [ENV.registryTable]: setting.name,
  [ENV.centralRoleArn]: setting.roleArn,
  [ENV.serviceName]: z.string().min(1).default(TENANT_API_SERVICE),
  /** The audit trail of changes to configs and registrations; without it, changes are refused. */
  [ENV.auditTable]: setting.name.optional(),
  /** Days an audit entry is kept (the table's TTL). */
  [ENV.auditRetentionDays]: setting.int(1, 3650, 400),
});
export type ApiSettings = z.infer<typeof ApiSettingsSchema>;

export function loadApiSettings(env: NodeJS.ProcessEnv = process.env): ApiSettings {
  return loadSettingsWith(ApiSettingsSchema, "tenant API", env);
}
