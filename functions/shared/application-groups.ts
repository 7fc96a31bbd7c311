/**
 * Named application groups, the names a delivery config's `groups` may use. Group names match
 * case-insensitively; application names match exactly.
 */
export const APPLICATION_GROUPS: Readonly<Record<string, readonly string[]>> = {
  API: ["kube-apiserver", "openshift-apiserver"],
  Authentication: ["oauth-server", "oauth-apiserver"],
  "Controller Manager": [
    "kube-controller-manager",
    "openshift-controller-manager",
    "openshift-route-controller-manager",
  ],
  Scheduler: ["kube-scheduler"],
};

const byLowerName = new Map(
  Object.entries(APPLICATION_GROUPS).map(([name, apps]) => [name.toLowerCase(), apps]),
);

/** Applications of a group, or undefined when the group name is unknown. */
export function applicationsOfGroup(name: string): readonly string[] | undefined {
  return byLowerName.get(name.trim().toLowerCase());
}

export const KNOWN_GROUP_NAMES: readonly string[] = Object.keys(APPLICATION_GROUPS);
