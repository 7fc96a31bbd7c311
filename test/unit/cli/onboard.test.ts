import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { customerRoleName } from "../../../stacks/naming";
import { runCaptured } from "../../harness/cli";

const CENTRAL = "arn:aws:iam::123456789012:role/logrelay/logrelay-prod-central-log-distribution";
const env = { CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: CENTRAL };

function onboard(out: string, ...extra: string[]) {
  return runCaptured(
    ["onboard", "acme", "--account", "111122223333", "--bucket", "acme-logs", "--out", out, ...extra],
    env,
  );
}
const entry = (out: string) => JSON.parse(readFileSync(join(out, "acme-customer-stack.json"), "utf8"));

describe("logrelay onboard", () => {
  it("run twice, keeps the tenant's ExternalId and rewrites nothing; files are readable by their owner only", async () => {
    const out = mkdtempSync(join(tmpdir(), "onboard-"));
    expect((await onboard(out)).code).toBe(0);
    const first = entry(out).external_id;
    const template = readFileSync(join(out, "acme-logrelay-role.template.json"), "utf8");

    const again = await onboard(out);

    expect(again.code).toBe(0);
    expect(again.out).toMatch(/kept from the files in --out/);
    expect(entry(out).external_id).toBe(first);
    expect(readFileSync(join(out, "acme-logrelay-role.template.json"), "utf8")).toBe(template);
    for (const f of [
      "acme-customer-stack.json",
      "acme-cloudwatch.json",
      "acme-s3.json",
      "acme-logrelay-role.template.json",
    ])
      expect(statSync(join(out, f)).mode & 0o777).toBe(0o600);
  });

  it("refuses to overwrite differing files without --force; --rotate-external-id --force issues a new one", async () => {
    const out = mkdtempSync(join(tmpdir(), "onboard-"));
    await onboard(out);
    const first = entry(out).external_id;

    const refused = await onboard(out, "--rotate-external-id");
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(
      /^logrelay: refusing to overwrite .*acme-logrelay-role\.template\.json.*pass --force/,
    );
    expect(entry(out).external_id).toBe(first);

    const rotated = await onboard(out, "--rotate-external-id", "--force");
    expect(rotated.code).toBe(0);
    expect(entry(out).external_id).not.toBe(first);
    expect(JSON.parse(readFileSync(join(out, "acme-cloudwatch.json"), "utf8")).external_id).toBe(
      entry(out).external_id,
    );
  });

  it("--firehose-stream: a firehose config, the stream in the customer's entry and the role's template", async () => {
    const out = mkdtempSync(join(tmpdir(), "onboard-"));
    const stream = "arn:aws:firehose:us-east-1:111122223333:deliverystream/acme-splunk";

    const result = await onboard(out, "--firehose-stream", stream);

    expect(result.code).toBe(0);
    expect(result.out).toMatch(/logrelay tenants validate acme firehose/);
    expect(JSON.parse(readFileSync(join(out, "acme-firehose.json"), "utf8"))).toMatchObject({
      type: "firehose",
      delivery_stream_arn: stream,
      external_id: entry(out).external_id,
    });
    expect(entry(out).firehose_streams).toEqual([stream]);
    const template = JSON.parse(readFileSync(join(out, "acme-logrelay-role.template.json"), "utf8"));
    const statements = template.Resources.LogDistributionRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ["firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"],
        Resource: [stream],
      }),
    );
  });

  it.each([
    ["arn:aws:firehose:us-east-1:111122223333:stream/acme", /is not a Firehose stream ARN/],
    [
      "arn:aws:firehose:us-east-1:999999999999:deliverystream/acme",
      /is in account 999999999999, not --account 111122223333/,
    ],
  ])("--firehose-stream %s is refused with a usage error", async (stream, message) => {
    const out = mkdtempSync(join(tmpdir(), "onboard-"));
    const result = await onboard(out, "--firehose-stream", stream);
    expect([result.code, result.err]).toEqual([2, expect.stringMatching(message)]);
  });

  it("says what to do with a broken entry file instead of failing on it", async () => {
    const out = mkdtempSync(join(tmpdir(), "onboard-"));
    writeFileSync(join(out, "acme-customer-stack.json"), "{not json");
    const result = await onboard(out);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/acme-customer-stack\.json is not JSON .*--rotate-external-id --force/);
  });

  it("supports every valid tenant id: role names stay within IAM's 64 characters, stable and distinct", async () => {
    const long = `t${"a".repeat(61)}z`;
    const other = `t${"a".repeat(61)}y`;
    expect(customerRoleName("acme")).toBe("logrelay-log-distribution-acme");
    expect(customerRoleName(long)).toHaveLength(64);
    expect(customerRoleName(long)).toBe(customerRoleName(long));
    expect(customerRoleName(long)).not.toBe(customerRoleName(other));
    expect(customerRoleName(long)).toMatch(/^logrelay-log-distribution-t/);

    const out = mkdtempSync(join(tmpdir(), "onboard-"));
    const result = await runCaptured(["onboard", long, "--account", "111122223333", "--out", out], env);
    expect(result.code).toBe(0);
    const template = JSON.parse(readFileSync(join(out, `${long}-logrelay-role.template.json`), "utf8"));
    expect(template.Resources.LogDistributionRole.Properties.RoleName).toBe(customerRoleName(long));
  });
});
