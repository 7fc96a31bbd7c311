import { applicationsOfGroup } from "../../shared/application-groups";
import type { DeliveryConfig } from "../../shared/delivery-config";

export interface ApplicationFilter {
  /** undefined: every application matches (no desired_logs and no groups). */
  readonly applications?: ReadonlySet<string>;
  /** Group names that are not known; they match nothing and are reported as warnings. */
  readonly unknownGroups: string[];
}

/**
 * The applications a config asks for: desired_logs plus the applications of its groups
 * (group names case-insensitive, application names exact). Empty desired_logs and groups mean all.
 * A config that names only unknown groups matches nothing: it asked for a filter, and guessing
 * "everything" would send logs the tenant did not ask for.
 */
export function applicationFilter(
  config: Pick<DeliveryConfig, "desired_logs" | "groups">,
): ApplicationFilter {
  if (config.desired_logs.length === 0 && config.groups.length === 0) return { unknownGroups: [] };
  const applications = new Set(config.desired_logs);
  const unknownGroups: string[] = [];
  for (const group of config.groups) {
    const apps = applicationsOfGroup(group);
    if (apps) for (const app of apps) applications.add(app);
    else unknownGroups.push(group);
  }
  return { applications, unknownGroups };
}

export function matchesApplication(filter: ApplicationFilter, application: string): boolean {
  return filter.applications === undefined || filter.applications.has(application);
}

/**
 * Why a config does not take this object (disabled, application not selected), or undefined when
 * it does. Unknown group names are handed to `warn`.
 */
export function skipReason(
  config: Pick<DeliveryConfig, "enabled" | "desired_logs" | "groups">,
  application: string,
  warn: (unknownGroups: string[]) => void,
): string | undefined {
  if (!config.enabled) return "delivery config is disabled";
  const filter = applicationFilter(config);
  if (filter.unknownGroups.length > 0) warn(filter.unknownGroups);
  return matchesApplication(filter, application) ? undefined : `application ${application} not selected`;
}
