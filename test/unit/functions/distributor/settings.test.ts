import { loadSettings } from "../../../../functions/distributor/settings";

const valid = {
  AWS_REGION: "eu-central-1",
  TENANT_CONFIG_TABLE: "logrelay-prod-tenant-configs",
  TENANT_REGISTRY_TABLE: "logrelay-prod-tenant-registry",
  CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: "arn:aws:iam::123456789012:role/logrelay/central-log-distribution",
};

describe("loadSettings", () => {
  it("applies documented defaults", () => {
    expect(loadSettings(valid)).toMatchObject({
      CONFIG_CACHE_TTL_SECONDS: 60,
      RETRY_MAX_ATTEMPTS: 5,
      MAX_EVENT_BYTES: 262_144,
      LEDGER_TTL_DAYS: 15,
    });
    expect(loadSettings(valid).DELIVERY_LEDGER_TABLE).toBeUndefined();
  });

  it("names every missing variable", () => {
    expect(() => loadSettings({ AWS_REGION: "eu-central-1" })).toThrow(
      "invalid distributor settings: TENANT_CONFIG_TABLE is required; TENANT_REGISTRY_TABLE is required; CENTRAL_LOG_DISTRIBUTION_ROLE_ARN is required",
    );
  });

  it("names an invalid value and what it must be", () => {
    expect(() => loadSettings({ ...valid, CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: "central-role" })).toThrow(
      /CENTRAL_LOG_DISTRIBUTION_ROLE_ARN="central-role": must be a full IAM role ARN/,
    );
    expect(() => loadSettings({ ...valid, RETRY_MAX_ATTEMPTS: "0" })).toThrow(/RETRY_MAX_ATTEMPTS="0"/);
    expect(() => loadSettings({ ...valid, AWS_REGION: "Frankfurt" })).toThrow(/AWS_REGION="Frankfurt"/);
  });

  it("TENANT_METRICS: none by default, tenants listed in METERED_TENANTS, a clear error for a bad value", () => {
    expect(loadSettings(valid)).toMatchObject({
      TENANT_METRICS: { mode: "none" },
      METERED_TENANTS: new Set(),
    });
    expect(
      loadSettings({ ...valid, TENANT_METRICS: "top:5", METERED_TENANTS: "acme, globex" }),
    ).toMatchObject({
      TENANT_METRICS: { mode: "top", top: 5 },
      METERED_TENANTS: new Set(["acme", "globex"]),
    });
    expect(() => loadSettings({ ...valid, TENANT_METRICS: "most" })).toThrow(
      /TENANT_METRICS="most": must be none, all or top:N/,
    );
  });
});
