import * as z from "zod";
import { TENANT_API_SERVICE } from "../shared/contract";
import { loadSettingsWith, setting } from "../shared/settings";

/** The API needs the table, the central role (for validate) and the region. */
const ApiSettingsSchema = z.object({
  AWS_REGION: setting.region,
  TENANT_CONFIG_TABLE: setting.name,
  TENANT_REGISTRY_TABLE: setting.name,
  CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: setting.roleArn,
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default(TENANT_API_SERVICE),
});
export type ApiSettings = z.infer<typeof ApiSettingsSchema>;

export function loadApiSettings(env: NodeJS.ProcessEnv = process.env): ApiSettings {
  return loadSettingsWith(ApiSettingsSchema, "tenant API", env);
}
