import {
  applicationFilter,
  matchesApplication,
} from "../../../../../functions/distributor/admission/matching";

const filter = (desired_logs: string[], groups: string[]) => applicationFilter({ desired_logs, groups });

describe("application filter", () => {
  it("matches every application when neither desired_logs nor groups is set", () => {
    expect(matchesApplication(filter([], []), "anything")).toBe(true);
  });

  it("combines desired_logs with the applications of the groups", () => {
    const f = filter(["custom-app-1"], ["API", "Authentication"]);
    expect([...f.applications!].sort()).toEqual(
      ["custom-app-1", "kube-apiserver", "oauth-apiserver", "oauth-server", "openshift-apiserver"].sort(),
    );
    expect(matchesApplication(f, "kube-scheduler")).toBe(false);
  });

  it("matches group names case-insensitively and application names exactly", () => {
    const f = filter([], ["controller manager"]);
    expect(matchesApplication(f, "openshift-route-controller-manager")).toBe(true);
    expect(matchesApplication(f, "Kube-Controller-Manager")).toBe(false);
  });

  it("reports unknown groups and matches nothing if only unknown groups were named", () => {
    const f = filter([], ["Nope"]);
    expect(f.unknownGroups).toEqual(["Nope"]);
    expect(matchesApplication(f, "kube-apiserver")).toBe(false);
  });
});
