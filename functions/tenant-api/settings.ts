import { SettingsError } from "../distributor/errors";
import { DistributorSettingsSchema } from "../distributor/settings";

/** The API needs the table, the central role (for validate) and the region: same rules as the distributor. */
const ApiSettingsSchema = DistributorSettingsSchema.pick({
  AWS_REGION: true,
  TENANT_CONFIG_TABLE: true,
  CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: true,
  POWERTOOLS_SERVICE_NAME: true,
});
export type ApiSettings = ReturnType<typeof ApiSettingsSchema.parse>;

export function loadApiSettings(env: NodeJS.ProcessEnv = process.env): ApiSettings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ApiSettingsSchema.safeParse({ POWERTOOLS_SERVICE_NAME: "logrelay-tenant-api", ...cleaned });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const v = String(i.path[0]);
    return env[v] ? `${v}=${JSON.stringify(env[v])}: ${i.message}` : `${v} is required`;
  });
  throw new SettingsError(`invalid tenant API settings: ${problems.join("; ")}`);
}
