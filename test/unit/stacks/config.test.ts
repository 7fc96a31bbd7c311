import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadEnvironmentFile, loadEnvironments, parseEnvironment } from "../../../stacks/config";

describe("environment definitions", () => {
  it("the shipped environments are valid", () => {
    const envs = loadEnvironments(resolve(__dirname, "..", "..", "..", "environments"));
    expect(envs.map((e) => [e.name, e.emulator, e.ingestion])).toEqual([
      ["local", true, "direct-s3"],
      ["local-firehose", true, "firehose"],
      ["prod", false, "direct-s3"],
    ]);
  });

  it("applies sizing defaults", () => {
    const e = parseEnvironment(
      { name: "dev", account_id: "123456789012", regions: ["eu-west-1"] },
      "dev.json",
    );
    expect(e.distributor).toEqual({
      recover_parked_every_minutes: 5,
      memory_mb: 1024,
      timeout_seconds: 300,
      batch_size: 50,
      batching_window_seconds: 5,
      log_level: "INFO",
    });
    expect(e.backend).toEqual({ type: "local" });
    expect(e.ingestion).toBe("direct-s3");
  });

  it.each([
    [{ account_id: "12345" }, "account_id: must be a 12-digit AWS account id"],
    [{ regions: ["mars-1"] }, "regions.0: must be an AWS region such as us-east-1"],
    [{ distributor: { timeout_seconds: 901 } }, "distributor.timeout_seconds: Too big"],
    [{ distributor: { memroy_mb: 512 } }, 'distributor: Unrecognized key: "memroy_mb"'],
    [{ log_retention_days: 10 }, "log_retention_days: must be one of 1, 3, 5, 7, 14, 30"],
    [
      { distributor: { batch_size: 50, batching_window_seconds: 0 } },
      "distributor.batching_window_seconds: batch_size above 10 needs batching_window_seconds of at least 1 (an SQS event source rule)",
    ],
    [
      { customers: [{ tenant_id: "Acme", account_id: "111111111111", external_id: "x-123" }] },
      "customers.0.tenant_id: tenant_id must be a DNS label",
    ],
    [
      { clusters: [{ id: "c1", region: "eu-west-1", oidc_issuer_url: "https://oidc.example.com/c1" }] },
      'clusters.0.region: cluster region eu-west-1 has no regional stack: add it to "regions"',
    ],
    [
      {
        clusters: [
          { id: "rosa-a", region: "us-east-1", oidc_issuer_url: "https://oidc.example.com/shared" },
          { id: "rosa-b", region: "us-east-1", oidc_issuer_url: "https://oidc.example.com/shared/" },
        ],
      },
      "clusters.1.namespace: clusters rosa-a and rosa-b share the OIDC issuer https://oidc.example.com/shared/ and the subject system:serviceaccount:logrelay:logrelay-collector: either could assume the other's roles",
    ],
    [
      {
        clusters: [
          {
            id: "rosa-a",
            region: "us-east-1",
            oidc_issuer_url: "https://oidc.example.com/s",
            distributor: { image: "i" },
          },
          {
            id: "rosa-b",
            region: "us-east-1",
            oidc_issuer_url: "https://oidc.example.com/s",
            service_account: "vector-b",
            distributor: { image: "i" },
          },
        ],
      },
      "subject system:serviceaccount:logrelay-distributor:logrelay-distributor",
    ],
  ])("refuses %j naming the field and the fix", (override, message) => {
    expect(() =>
      parseEnvironment(
        { name: "dev", account_id: "123456789012", regions: ["us-east-1"], ...override },
        "dev.json",
      ),
    ).toThrow(message);
  });

  it("gives each tenant its own log-group prefix by default, and refuses overlapping prefixes in one account", () => {
    const base = { name: "dev", account_id: "123456789012", regions: ["us-east-1"] };
    const e = parseEnvironment(
      {
        ...base,
        customers: [
          { tenant_id: "acme", account_id: "111111111111", external_id: "ext-1" },
          { tenant_id: "acme-eu", account_id: "111111111111", external_id: "ext-2" },
        ],
      },
      "dev.json",
    );
    expect(e.customers.map((c) => c.log_group_prefix)).toEqual(["/logrelay/acme/", "/logrelay/acme-eu/"]);
    expect(() =>
      parseEnvironment(
        {
          ...base,
          customers: [
            {
              tenant_id: "acme",
              account_id: "111111111111",
              external_id: "ext-1",
              log_group_prefix: "/logrelay/",
            },
            { tenant_id: "globex", account_id: "111111111111", external_id: "ext-2" },
          ],
        },
        "dev.json",
      ),
    ).toThrow(
      "customers.1.log_group_prefix: tenants acme and globex share account 111111111111 and their log-group prefixes (/logrelay/, /logrelay/globex/) overlap",
    );
  });

  it("accepts clusters sharing an issuer when their subjects differ (another namespace)", () => {
    const e = parseEnvironment(
      {
        name: "dev",
        account_id: "123456789012",
        regions: ["us-east-1"],
        clusters: [
          { id: "rosa-a", region: "us-east-1", oidc_issuer_url: "https://oidc.example.com/shared" },
          {
            id: "rosa-b",
            region: "us-east-1",
            oidc_issuer_url: "https://oidc.example.com/shared",
            namespace: "logrelay-b",
          },
        ],
      },
      "dev.json",
    );
    expect(e.clusters.map((c) => c.namespace)).toEqual(["logrelay", "logrelay-b"]);
  });

  it("names the file, and refuses a name that does not match it", () => {
    const dir = mkdtempSync(join(tmpdir(), "env-"));
    writeFileSync(
      join(dir, "staging.json"),
      JSON.stringify({ name: "stage", account_id: "123456789012", regions: ["us-east-1"] }),
    );
    expect(() => loadEnvironmentFile(join(dir, "staging.json"))).toThrow(
      /staging\.json:\n {2}name: "stage" must match the file name/,
    );
    writeFileSync(join(dir, "broken.json"), "{");
    expect(() => loadEnvironmentFile(join(dir, "broken.json"))).toThrow(
      /cannot read environment definition .*broken\.json/,
    );
    expect(() => loadEnvironments(dir, "nope")).toThrow(/no environment definition environments\/nope\.json/);
  });
});
