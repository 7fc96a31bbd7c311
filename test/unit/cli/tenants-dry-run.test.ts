import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCaptured } from "../../harness/cli";

const config = {
  type: "cloudwatch",
  log_distribution_role_arn: "arn:aws:iam::111111111111:role/logrelay/logrelay-log-distribution-acme",
  external_id: "acme-0123456789abcdef",
  log_group_name: "/logrelay/acme/acme",
};
function file(body: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), "dry-")), "config.json");
  writeFileSync(path, JSON.stringify(body));
  return path;
}

describe("tenant writes with --dry-run: checked and shown, nothing sent (no API needed)", () => {
  it("put shows the request it would send", async () => {
    const { code, out, err } = await runCaptured(
      ["tenants", "put", "acme", "--file", file(config), "--dry-run", "-o", "json"],
      {},
    );
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      dry_run: true,
      method: "POST",
      path: "/tenants/acme/delivery-configs",
      body: config,
    });
    expect(err).toBe("dry run: nothing was sent\n");
  });

  it("put refuses what the API would refuse, naming the field", async () => {
    const { code, err } = await runCaptured(
      ["tenants", "put", "acme", "--file", file({ ...config, retention_days: 31 }), "--dry-run"],
      {},
    );
    expect(code).toBe(2);
    expect(err).toMatch(/^logrelay: the config would be refused: retention_days: must be one of 1, 3, 5/);
  });

  it.each([
    [
      ["tenants", "patch", "acme", "cloudwatch", "--set", "enabled=false", "--version", "3", "--dry-run"],
      /^would PATCH \/tenants\/acme\/delivery-configs\/cloudwatch \{"enabled":false,"version":3\}/,
    ],
    [
      ["tenants", "delete", "acme", "cloudwatch", "--dry-run"],
      /^would DELETE \/tenants\/acme\/delivery-configs\/cloudwatch/,
    ],
    [["tenants", "unregister", "acme", "--dry-run"], /^would DELETE \/registry\/acme/],
  ])("%s", async (argv, shown) => {
    const { code, out, err } = await runCaptured(argv as string[], {});
    expect(code).toBe(0);
    expect(out).toMatch(shown as RegExp);
    expect(err).toBe("dry run: nothing was sent\n");
  });
});
