import type { CredentialBroker, DestinationSession } from "../../../../functions/shared/credentials";
import type { DeliveryConfig } from "../../../../functions/shared/delivery-config";
import { AwsDestinationValidator } from "../../../../functions/shared/destination-checks";

const CENTRAL = "arn:aws:iam::123456789012:role/logrelay/central";
const s3Config: DeliveryConfig = {
  tenant_id: "acme",
  type: "s3",
  enabled: true,
  desired_logs: [],
  groups: [],
  log_distribution_role_arn: "arn:aws:iam::111111111111:role/logrelay/r",
  external_id: "ext-acme-1",
  bucket_name: "acme-logs",
  bucket_prefix: "logs/",
};
const cwConfig: DeliveryConfig = {
  tenant_id: "acme",
  type: "cloudwatch",
  enabled: true,
  desired_logs: [],
  groups: [],
  log_distribution_role_arn: "arn:aws:iam::111111111111:role/logrelay/r",
  external_id: "ext-acme-1",
  log_group_name: "/logrelay/acme",
};
const named = (name: string, message = `${name} happened\nwith details on the next line`) =>
  Object.assign(new Error(message), { name });
const session: DestinationSession = {
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
  region: "us-east-1",
  accountId: "111111111111",
  cacheKey: "k",
};

function validator(options: { assume?: Error; s3?: Error; logs?: Error; firehose?: Error; status?: string }) {
  const broker: CredentialBroker = {
    destinationSession: async () => {
      if (options.assume) throw options.assume;
      return session;
    },
  };
  const failing = (error?: Error) => ({
    send: async () => {
      if (error) throw error;
      return { logGroups: [] };
    },
  });
  return new AwsDestinationValidator(broker, "us-east-1", CENTRAL, {
    s3: () => failing(options.s3) as never,
    logs: () => failing(options.logs) as never,
    firehose: () =>
      ({
        send: async () => {
          if (options.firehose) throw options.firehose;
          return { DeliveryStreamDescription: { DeliveryStreamStatus: options.status ?? "ACTIVE" } };
        },
      }) as never,
  });
}

describe("validate: each failure with a hint for its cause, not raw error text", () => {
  it.each([
    ["AccessDenied", /deploy the logrelay role .* trusts arn:aws:iam::123456789012:role\/logrelay\/central/],
    ["InvalidClientTokenId", /logrelay's own credentials were refused .* CENTRAL_LOG_DISTRIBUTION_ROLE_ARN/],
  ])("assume-customer-role fails with %s", async (name, hint) => {
    const [check] = await validator({ assume: named(name) }).validate(s3Config);

    expect(check).toMatchObject({
      check: "assume-customer-role",
      ok: false,
      detail: `${name}: ${name} happened`,
    });
    expect(check!.hint).toMatch(hint);
  });

  it.each([
    ["NoSuchBucket", /must exist in account 111111111111 \(create it, or fix bucket_name\)/],
    [
      "AccessDenied",
      /must belong to account 111111111111, and the role \(and the bucket policy\) must allow s3:PutObject on logs\/acme\/\*/,
    ],
    ["KMS.DisabledException", /KMS key refuses/],
    ["SlowDown", /S3 could not be written \(SlowDown\)/],
  ])("bucket-writable fails with %s", async (name, hint) => {
    const [, check] = await validator({ s3: named(name) }).validate(s3Config);

    expect(check).toMatchObject({ check: "bucket-writable", ok: false, detail: `${name}: ${name} happened` });
    expect(check!.hint).toMatch(hint);
  });

  it("log-group-reachable tells a refusal from an unreachable service", async () => {
    const [, denied] = await validator({ logs: named("AccessDeniedException") }).validate(cwConfig);
    const [, down] = await validator({ logs: named("ServiceUnavailableException") }).validate(cwConfig);

    expect(denied!.hint).toMatch(/The role refuses/);
    expect(down!.hint).toMatch(/could not be reached \(ServiceUnavailableException\): check target_region/);
  });

  it("stream-reachable describes the stream with the customer's role: active, missing, or refused", async () => {
    const fhConfig: DeliveryConfig = {
      tenant_id: "acme",
      type: "firehose",
      enabled: true,
      desired_logs: [],
      groups: [],
      log_distribution_role_arn: "arn:aws:iam::111111111111:role/logrelay/r",
      external_id: "ext-acme-1",
      delivery_stream_arn: "arn:aws:firehose:eu-west-1:111111111111:deliverystream/acme-splunk",
    };
    const [, active] = await validator({}).validate(fhConfig);
    const [, creating] = await validator({ status: "CREATING" }).validate(fhConfig);
    const [, missing] = await validator({ firehose: named("ResourceNotFoundException") }).validate(fhConfig);
    const [, denied] = await validator({ firehose: named("AccessDeniedException") }).validate(fhConfig);

    expect(active).toEqual({
      check: "stream-reachable",
      ok: true,
      detail: "delivery stream acme-splunk is ACTIVE in us-east-1",
    });
    expect(creating).toMatchObject({ ok: false, hint: "Deliveries wait until the stream is ACTIVE." });
    expect(missing!.hint).toMatch(/^The stream acme-splunk must exist in account 111111111111/);
    expect(denied!.hint).toMatch(
      /must allow firehose:PutRecordBatch and firehose:DescribeDeliveryStream on .*logrelay onboard acme --firehose-stream/,
    );
  });
});
