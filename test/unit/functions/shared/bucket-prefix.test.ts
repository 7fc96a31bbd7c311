import { BucketPrefixSchema, DeliveryConfigSchema } from "../../../../functions/shared/delivery-config";
import { parseEnvironment } from "../../../../stacks/config";
import { runCaptured } from "../../../harness/cli";

/** One rule for every bucket prefix: configs, onboarding, customer stacks. */
describe("bucket prefixes", () => {
  const refused = ["*/", "logs/*/", "a?/", "../", "./", "logs/../x/", "/logs/", "logs//", "logs", "logs /"];
  const accepted = ["", "ROSA/cluster-logs/", "a/b/c/", "x..y/", "it's(1)!/"];

  it.each(accepted)("accepts %j", (prefix) => {
    expect(BucketPrefixSchema.safeParse(prefix).success).toBe(true);
  });

  it.each(refused)("refuses %j in a delivery config, a customer stack and onboard", async (prefix) => {
    const config = DeliveryConfigSchema.safeParse({
      tenant_id: "acme",
      type: "s3",
      log_distribution_role_arn: "arn:aws:iam::111111111111:role/logrelay/r",
      external_id: "ext-acme-1",
      bucket_name: "acme-logs",
      bucket_prefix: prefix,
    });
    expect(config.success).toBe(false);
    expect(() =>
      parseEnvironment(
        {
          name: "dev",
          account_id: "123456789012",
          regions: ["us-east-1"],
          customers: [
            {
              tenant_id: "acme",
              account_id: "111111111111",
              external_id: "ext-1",
              bucket: { name: "acme-logs", prefix },
            },
          ],
        },
        "dev.json",
      ),
    ).toThrow(/customers\.0\.bucket\.prefix: bucket_prefix must be empty or '\/'-terminated/);
    const onboard = await runCaptured(
      [
        "onboard",
        "acme",
        "--account",
        "111111111111",
        "--bucket",
        "acme-logs",
        "--bucket-prefix",
        prefix,
        "--out",
        "/nonexistent",
      ],
      { CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: "arn:aws:iam::123456789012:role/logrelay/central" },
    );
    expect([onboard.code, onboard.err]).toEqual([
      2,
      expect.stringMatching(/^logrelay: --bucket-prefix .* must be empty or/),
    ]);
  });
});
