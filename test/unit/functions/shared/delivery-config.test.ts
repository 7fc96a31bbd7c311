import { DeliveryConfigSchema, describeIssues } from "../../../../functions/shared/delivery-config";
import { WritableConfigSchema } from "../../../../functions/tenant-api/schemas";

const base = {
  tenant_id: "acme",
  type: "cloudwatch",
  log_distribution_role_arn: "arn:aws:iam::111111111111:role/logrelay/logrelay-log-distribution-acme",
  external_id: "acme-0123456789abcdef",
  log_group_name: "/logrelay/acme/acme",
};
const KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("CloudWatch delivery configs: retention and KMS key of the log group logrelay creates", () => {
  it("takes a retention CloudWatch accepts and a key of the role's own account", () => {
    expect(DeliveryConfigSchema.parse({ ...base, retention_days: 90, kms_key_arn: KEY })).toMatchObject({
      retention_days: 90,
      kms_key_arn: KEY,
    });
  });

  it("names a retention CloudWatch does not accept, a malformed key, and another account's key", () => {
    const issues = (c: Record<string, unknown>) => {
      const r = DeliveryConfigSchema.safeParse(c);
      return r.success ? [] : describeIssues(r.error);
    };
    expect(issues({ ...base, retention_days: 31 })).toEqual([
      expect.stringMatching(/^retention_days: must be one of 1, 3, 5/),
    ]);
    expect(issues({ ...base, kms_key_arn: "alias/mine" })).toEqual([
      expect.stringMatching(/^kms_key_arn: kms_key_arn must be a KMS key ARN/),
    ]);
    expect(issues({ ...base, kms_key_arn: KEY.replace("111111111111", "222222222222") })).toEqual([
      "kms_key_arn: kms_key_arn must be a key in the account of log_distribution_role_arn",
    ]);
  });

  it("the API's writable schema applies the same account rule", () => {
    const { tenant_id: _t, ...body } = base;
    expect(
      WritableConfigSchema.safeParse({ ...body, kms_key_arn: KEY.replace("111111111111", "222222222222") })
        .success,
    ).toBe(false);
    expect(WritableConfigSchema.safeParse({ ...body, kms_key_arn: KEY, retention_days: 7 }).success).toBe(
      true,
    );
  });
});
