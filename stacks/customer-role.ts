import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { Construct } from "constructs";
import { LOG_GROUP_WRITER_ACTIONS, SESSION_TAGS } from "../functions/shared/contract";
import type { PolicyDocument, PolicyStatement } from "./constructs/iam";
import { policy } from "./constructs/iam";
import { customerRoleName, IAM_PATH } from "./naming";

/**
 * The customer's log-distribution role, as plain policy documents: used by the Terraform
 * customer-account stack and by the CloudFormation template handed to customers, so both grant
 * exactly the same.
 */
export interface CustomerRoleSpec {
  readonly tenantId: string;
  readonly accountId: string;
  readonly externalId: string;
  readonly centralRoleArn: string;
  readonly logGroupPrefix: string;
  readonly bucket?: { readonly name: string; readonly prefix: string };
  /** Firehose streams (ARNs, in `accountId`) the role may put records into. */
  readonly firehoseStreams?: readonly string[];
  /** The role's name. @default customerRoleName(tenantId) */
  readonly roleName?: string;
}

export function customerTrustPolicy(spec: CustomerRoleSpec): PolicyDocument {
  const principal = { AWS: spec.centralRoleArn };
  return policy(
    {
      Sid: "CentralRoleWithTenantExternalId",
      Effect: "Allow",
      Principal: principal,
      Action: "sts:AssumeRole",
      Condition: {
        StringEquals: {
          "sts:ExternalId": spec.externalId,
          [`aws:RequestTag/${SESSION_TAGS.tenant}`]: spec.tenantId,
        },
      },
    },
    {
      Sid: "CentralRoleTagsSessionWithThisTenant",
      Effect: "Allow",
      Principal: principal,
      Action: "sts:TagSession",
      Condition: { StringEquals: { [`aws:RequestTag/${SESSION_TAGS.tenant}`]: spec.tenantId } },
    },
  );
}

export function customerPermissions(spec: CustomerRoleSpec): PolicyDocument {
  const group = `arn:aws:logs:*:${spec.accountId}:log-group:${spec.logGroupPrefix}*`;
  const statements: PolicyStatement[] = [
    {
      Sid: "WriteLogsUnderPrefix",
      Effect: "Allow",
      // Create (with tags and the customer's KMS key), set retention, write: on its prefix only.
      Action: [...LOG_GROUP_WRITER_ACTIONS],
      Resource: [group, `${group}:log-stream:*`],
    },
    {
      // DescribeLogGroups has no resource-level scoping beyond the account: read-only, used by `validate`.
      Sid: "FindLogGroups",
      Effect: "Allow",
      Action: "logs:DescribeLogGroups",
      Resource: `arn:aws:logs:*:${spec.accountId}:log-group:*`,
    },
  ];
  if (spec.bucket) {
    statements.push({
      Sid: "PutObjectsUnderTenantPrefix",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: `arn:aws:s3:::${spec.bucket.name}/${spec.bucket.prefix}${spec.tenantId}/*`,
      Condition: {
        StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "s3:ResourceAccount": spec.accountId },
      },
    });
    // A bucket encrypted with a customer-managed key: the key's data keys, only through S3 (which
    // uses them only for the puts this role may make). The key's policy must let this account's IAM
    // policies grant its use (the default key policy does).
    statements.push({
      Sid: "UseBucketKeyThroughS3",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: `arn:aws:kms:*:${spec.accountId}:key/*`,
      Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } },
    });
  }
  if (spec.firehoseStreams?.length) {
    statements.push({
      // Records into the named streams only; describe, so `validate` can prove the role reaches them.
      Sid: "PutRecordsIntoNamedStreams",
      Effect: "Allow",
      Action: ["firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"],
      Resource: [...spec.firehoseStreams],
    });
  }
  return policy(...statements);
}

/** CloudFormation template of the same role, for customers who do not run Terraform. */
export function customerRoleTemplate(spec: CustomerRoleSpec): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `logrelay log-distribution role for tenant ${spec.tenantId}: lets logrelay deliver your logs into this account`,
    Resources: {
      LogDistributionRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: customerRoleName(spec.tenantId),
          Path: IAM_PATH,
          Description: `logrelay delivery for tenant ${spec.tenantId}`,
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: customerTrustPolicy(spec),
          Policies: [{ PolicyName: "logrelay-delivery", PolicyDocument: customerPermissions(spec) }],
          Tags: [{ Key: "logrelay:tenant_id", Value: spec.tenantId }],
        },
      },
    },
    Outputs: {
      LogDistributionRoleArn: {
        Description: "Give this ARN to your logrelay operator",
        Value: { "Fn::GetAtt": ["LogDistributionRole", "Arn"] },
      },
    },
  };
}

/**
 * The log-distribution role and its policy in the account `scope` deploys to: a customer's (the
 * customer-account stack) or the platform's own for the heartbeat tenant (the global stack).
 * `ids` are the Terraform addresses of the role and the policy.
 */
export function logDistributionRole(
  scope: Construct,
  ids: { readonly role: string; readonly policy: string },
  spec: CustomerRoleSpec,
): IamRole {
  const role = new IamRole(scope, ids.role, {
    name: spec.roleName ?? customerRoleName(spec.tenantId),
    path: IAM_PATH,
    description: `logrelay delivery for tenant ${spec.tenantId}`,
    maxSessionDuration: 3600,
    assumeRolePolicy: JSON.stringify(customerTrustPolicy(spec)),
  });
  new IamRolePolicy(scope, ids.policy, {
    role: role.id,
    name: "logrelay-delivery",
    policy: JSON.stringify(customerPermissions(spec)),
  });
  return role;
}
