import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeDeliveryStreamCommand, FirehoseClient } from "@aws-sdk/client-firehose";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { CredentialBroker, DestinationSession } from "./credentials";
import { type DeliveryConfig, destinationRegion, streamNameOf } from "./delivery-config";
import { describeError } from "./errors";
import { accountOfRoleArn } from "./patterns";

/**
 * The checks of a destination, shared by the tenant API (`validate`) and the distributor's probe
 * of a parked destination: the same role chain as a delivery, without sending logs.
 */
export interface CheckResult {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  /** What to do when the check fails. */
  readonly hint?: string;
}

/** Proves a config works without sending logs: same role chain as the distributor. */
export interface DestinationValidator {
  validate(config: DeliveryConfig): Promise<CheckResult[]>;
}

export const validationKey = (prefix: string, tenant: string) =>
  `${prefix}${tenant}/_logrelay-validation.json`;

function validationPolicy(config: DeliveryConfig, region: string): string {
  const account = accountOfRoleArn(config.log_distribution_role_arn);
  const statement =
    config.type === "cloudwatch"
      ? {
          Effect: "Allow",
          Action: "logs:DescribeLogGroups",
          Resource: `arn:aws:logs:${region}:${account}:log-group:*`,
        }
      : config.type === "s3"
        ? {
            Effect: "Allow",
            Action: "s3:PutObject",
            Resource: `arn:aws:s3:::${config.bucket_name}/${validationKey(config.bucket_prefix, config.tenant_id)}`,
          }
        : {
            Effect: "Allow",
            Action: "firehose:DescribeDeliveryStream",
            Resource: config.delivery_stream_arn,
          };
  return JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
}

/**
 * Checks a delivery config the way the distributor would use it, without sending logs: assume the
 * customer's role through the central role (ExternalId, session tags), then reach the log group
 * (describe) or the bucket (write a small validation object under the tenant's prefix).
 */
export class AwsDestinationValidator implements DestinationValidator {
  constructor(
    private readonly broker: CredentialBroker,
    private readonly region: string,
    private readonly centralRoleArn: string,
    private readonly clients: {
      logs: (s: DestinationSession) => Pick<CloudWatchLogsClient, "send">;
      s3: (s: DestinationSession) => Pick<S3Client, "send">;
      firehose: (s: DestinationSession) => Pick<FirehoseClient, "send">;
    } = {
      logs: (s) => new CloudWatchLogsClient({ region: s.region, credentials: s.credentials }),
      s3: (s) => new S3Client({ region: s.region, credentials: s.credentials }),
      firehose: (s) => new FirehoseClient({ region: s.region, credentials: s.credentials }),
    },
  ) {}

  async validate(config: DeliveryConfig): Promise<CheckResult[]> {
    const region = destinationRegion(config, this.region);
    let session: DestinationSession;
    try {
      session = await this.broker.destinationSession({
        roleArn: config.log_distribution_role_arn,
        externalId: config.external_id,
        tenantId: config.tenant_id,
        region,
        sessionPolicy: validationPolicy(config, region),
      });
    } catch (error) {
      const account = accountOfRoleArn(config.log_distribution_role_arn);
      const platform = [
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
      ];
      const hint = platform.includes(errorName(error))
        ? `logrelay's own credentials were refused before the customer's role was tried: check the API's role and CENTRAL_LOG_DISTRIBUTION_ROLE_ARN (${this.centralRoleArn}).`
        : `In account ${account}, deploy the logrelay role (customer stack or template from ` +
          `\`logrelay onboard ${config.tenant_id}\`) so that it trusts ${this.centralRoleArn} with this config's ExternalId ` +
          `and tenant tag ${config.tenant_id}; check log_distribution_role_arn and external_id.`;
      return [{ check: "assume-customer-role", ok: false, detail: short(error), hint }];
    }
    const assumed: CheckResult = {
      check: "assume-customer-role",
      ok: true,
      detail: `assumed ${config.log_distribution_role_arn}`,
    };
    const reached =
      config.type === "cloudwatch"
        ? await this.logGroup(config, session)
        : config.type === "s3"
          ? await this.bucket(config, session)
          : await this.stream(config, session);
    return [assumed, reached];
  }

  private async logGroup(
    config: Extract<DeliveryConfig, { type: "cloudwatch" }>,
    session: DestinationSession,
  ): Promise<CheckResult> {
    try {
      const out = await this.clients
        .logs(session)
        .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: config.log_group_name }));
      const exists = (out.logGroups ?? []).some((g) => g.logGroupName === config.log_group_name);
      return {
        check: "log-group-reachable",
        ok: true,
        detail: exists
          ? `log group ${config.log_group_name} exists in ${session.region}`
          : `log group ${config.log_group_name} does not exist yet in ${session.region}; it is created on the first delivery`,
      };
    } catch (error) {
      return {
        check: "log-group-reachable",
        ok: false,
        detail: short(error),
        hint: /AccessDenied/.test(errorName(error))
          ? `The role refuses: it must allow logs:DescribeLogGroups, and writing to log groups whose names cover ${config.log_group_name} (its log-group prefix).`
          : `CloudWatch Logs in ${session.region} could not be reached (${errorName(error)}): check target_region and try again.`,
      };
    }
  }

  private async bucket(
    config: Extract<DeliveryConfig, { type: "s3" }>,
    session: DestinationSession,
  ): Promise<CheckResult> {
    const key = validationKey(config.bucket_prefix, config.tenant_id);
    try {
      await this.clients.s3(session).send(
        new PutObjectCommand({
          Bucket: config.bucket_name,
          Key: key,
          Body: JSON.stringify({
            logrelay: "validation",
            tenant_id: config.tenant_id,
            at: new Date().toISOString(),
          }),
          ContentType: "application/json",
          ACL: "bucket-owner-full-control",
          ExpectedBucketOwner: session.accountId,
        }),
      );
      return { check: "bucket-writable", ok: true, detail: `wrote s3://${config.bucket_name}/${key}` };
    } catch (error) {
      const name = errorName(error);
      const where = `${config.bucket_prefix}${config.tenant_id}/*`;
      const hint =
        name === "NoSuchBucket"
          ? `The bucket ${config.bucket_name} must exist in account ${session.accountId} (create it, or fix bucket_name).`
          : /^KMS|kms/.test(name) || /KMS/.test((error as Error).message ?? "")
            ? `The bucket's KMS key refuses: its key policy must let account ${session.accountId}'s IAM policies use it, and the role allows kms:GenerateDataKey through S3.`
            : name === "AccessDenied" || name === "Forbidden"
              ? `The bucket ${config.bucket_name} must belong to account ${session.accountId}, and the role (and the bucket policy) must allow s3:PutObject on ${where} with bucket-owner-full-control.`
              : `S3 could not be written (${name}): the bucket ${config.bucket_name} must exist in account ${session.accountId} and the role must allow s3:PutObject on ${where}.`;
      return { check: "bucket-writable", ok: false, detail: short(error), hint };
    }
  }

  private async stream(
    config: Extract<DeliveryConfig, { type: "firehose" }>,
    session: DestinationSession,
  ): Promise<CheckResult> {
    const name = streamNameOf(config.delivery_stream_arn);
    try {
      const out = await this.clients
        .firehose(session)
        .send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
      const status = out.DeliveryStreamDescription?.DeliveryStreamStatus ?? "UNKNOWN";
      return {
        check: "stream-reachable",
        ok: status === "ACTIVE",
        detail: `delivery stream ${name} is ${status} in ${session.region}`,
        ...(status !== "ACTIVE" && { hint: `Deliveries wait until the stream is ACTIVE.` }),
      };
    } catch (error) {
      const failed = errorName(error);
      return {
        check: "stream-reachable",
        ok: false,
        detail: short(error),
        hint:
          failed === "ResourceNotFoundException"
            ? `The stream ${name} must exist in account ${session.accountId}, region ${session.region} (create it, or fix delivery_stream_arn).`
            : `The role must allow firehose:PutRecordBatch and firehose:DescribeDeliveryStream on ${config.delivery_stream_arn} (\`logrelay onboard ${config.tenant_id} --firehose-stream ${config.delivery_stream_arn}\`).`,
      };
    }
  }
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : "Error");

/** The error's name and the first line of its message: enough to act on, nothing raw. */
function short(error: unknown): string {
  const text = describeError(error);
  const firstLine = text.split("\n")[0] ?? text;
  return firstLine.length > 300 ? `${firstLine.slice(0, 300)}...` : firstLine;
}
