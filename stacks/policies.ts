import { LEDGER_PARKED_INDEX } from "../functions/shared/contract";
import { QUARANTINE_PREFIX } from "../functions/shared/patterns";
import type { Environment } from "./config";
import type { PolicyStatement } from "./constructs/iam";
import { CLUSTER_TAG } from "./naming";

/** Pure builders of the IAM statements the stacks attach: one place per trust decision. */

/** What a distributor (Lambda or in-cluster worker) may do: consume, read, look up, assume. */
export function distributorStatements(r: {
  queueArn: string;
  stagingBucketArn: string;
  keyArn: string;
  configTableArn: string;
  registryTableArn: string;
  ledgerTableArn: string;
  centralRoleArn: string;
  alarmTopicArn: string;
  region: string;
}): PolicyStatement[] {
  return [
    {
      Sid: "ConsumeDeliveryQueue",
      Effect: "Allow",
      Action: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
      ],
      Resource: r.queueArn,
    },
    {
      Sid: "ReadStagedObjects",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: `${r.stagingBucketArn}/*`,
    },
    {
      // Only as S3 (staged objects) and SQS (messages) use it on the distributor's behalf.
      Sid: "DecryptStagedObjectsAndMessages",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: r.keyArn,
      Condition: {
        StringEquals: { "kms:ViaService": [`s3.${r.region}.amazonaws.com`, `sqs.${r.region}.amazonaws.com`] },
      },
    },
    { Sid: "ReadTenantConfigs", Effect: "Allow", Action: "dynamodb:Query", Resource: r.configTableArn },
    { Sid: "ReadTenantRegistry", Effect: "Allow", Action: "dynamodb:GetItem", Resource: r.registryTableArn },
    {
      Sid: "UseDeliveryLedger",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
      Resource: r.ledgerTableArn,
    },
    {
      Sid: "ListParkedDeliveries",
      Effect: "Allow",
      Action: "dynamodb:Query",
      Resource: `${r.ledgerTableArn}/index/${LEDGER_PARKED_INDEX.name}`,
    },
    {
      // How long a parked delivery can wait: the staging bucket's expiry.
      Sid: "ReadStagingExpiry",
      Effect: "Allow",
      Action: "s3:GetLifecycleConfiguration",
      Resource: r.stagingBucketArn,
    },
    { Sid: "AnnounceParkedDestinations", Effect: "Allow", Action: "sns:Publish", Resource: r.alarmTopicArn },
    {
      // The alarm topic is encrypted with the regional key: publishing needs a data key, via SNS only.
      Sid: "EncryptAnnouncements",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: r.keyArn,
      Condition: { StringEquals: { "kms:ViaService": `sns.${r.region}.amazonaws.com` } },
    },
    { Sid: "AssumeCentralRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: r.centralRoleArn },
  ];
}

/**
 * What the tenant-config API may do: manage configs and the registry (its registry routes are
 * for platform admins: API Gateway's IAM authorization decides who reaches them), and assume the
 * central role for `validate`.
 */
export function tenantApiStatements(r: {
  configTableArn: string;
  registryTableArn: string;
  auditTableArn: string;
  centralRoleArn: string;
}): PolicyStatement[] {
  return [
    // Each change is written with its audit entry in one transaction (the items' own actions).
    {
      Sid: "AppendAuditTrail",
      Effect: "Allow",
      Action: ["dynamodb:PutItem", "dynamodb:Query"],
      Resource: r.auditTableArn,
    },
    {
      Sid: "AuditTrailIsAppendOnly",
      Effect: "Deny",
      Action: [
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteTable",
      ],
      Resource: r.auditTableArn,
    },
    {
      Sid: "ManageTenantConfigs",
      Effect: "Allow",
      Action: [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
      ],
      Resource: r.configTableArn,
    },
    {
      Sid: "ManageTenantRegistry",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
      Resource: r.registryTableArn,
    },
    // validate assumes customer roles exactly as the distributor does.
    { Sid: "AssumeCentralRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: r.centralRoleArn },
  ];
}

/**
 * What a cluster's collector may write, for the role tagged with its cluster id.
 *
 * direct-s3: objects whose second key segment is the cluster's id. IAM wildcards span '/', so an
 * Allow of "any/<id>/any" alone would also admit `acme/other-cluster/<id>/pod/f` (an object
 * claiming another cluster); the Deny removes every key where `<id>` is a later segment. The
 * collector's VRL quarantines the rare event whose application or pod name equals the cluster id,
 * so no legitimate write is refused.
 * firehose: records into the ingestion stream (Firehose cannot tie records to the caller; see
 * README), and quarantined events straight to `_quarantine/<id>/`.
 * Both: the region's key, only through S3 for the staging bucket.
 */
export function collectorWriterStatements(r: {
  ingestion: Environment["ingestion"];
  stagingBucketArn: string;
  keyArn: string;
  region: string;
  firehoseStreamArn: string;
}): PolicyStatement[] {
  // "$${" is Terraform's escape for a literal "${": an IAM policy variable, not interpolation.
  const clusterId = `$\${aws:PrincipalTag/${CLUSTER_TAG}}`;
  const encrypt: PolicyStatement = {
    Sid: "EncryptForStagingBucketOnly",
    Effect: "Allow",
    Action: ["kms:GenerateDataKey", "kms:Decrypt"],
    Resource: r.keyArn,
    Condition: {
      StringEquals: {
        "kms:ViaService": `s3.${r.region}.amazonaws.com`,
        "kms:EncryptionContext:aws:s3:arn": r.stagingBucketArn,
      },
    },
  };
  if (r.ingestion === "direct-s3") {
    return [
      {
        Sid: "PutOwnClusterObjects",
        Effect: "Allow",
        Action: "s3:PutObject",
        Resource: `${r.stagingBucketArn}/*/${clusterId}/*`,
      },
      {
        Sid: "ClusterIdOnlyAsSecondSegment",
        Effect: "Deny",
        Action: "s3:PutObject",
        Resource: `${r.stagingBucketArn}/*/*/${clusterId}/*`,
      },
      encrypt,
    ];
  }
  return [
    {
      Sid: "PutToIngestionStream",
      Effect: "Allow",
      // Describe: Vector's healthcheck of the sink.
      Action: ["firehose:PutRecord", "firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"],
      Resource: r.firehoseStreamArn,
    },
    {
      Sid: "PutOwnQuarantinedObjects",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: `${r.stagingBucketArn}/${QUARANTINE_PREFIX}${clusterId}/*`,
    },
    encrypt,
  ];
}

/**
 * The regional key's policy: the account administers it through IAM; S3 and SNS encrypt
 * notifications of this account; CloudWatch Logs encrypts this account's log groups.
 */
export function regionalKeyStatements(account: string, region: string): PolicyStatement[] {
  return [
    {
      // Standard root statement: lets IAM policies in this account grant use of the key;
      // without it the key would be unmanageable. Key use itself is granted per role below.
      Sid: "AccountAdministersKeyThroughIam",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "S3AndSnsEncryptNotifications",
      Effect: "Allow",
      Principal: { Service: ["s3.amazonaws.com", "sns.amazonaws.com"] },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": account } },
    },
    {
      Sid: "CloudWatchLogsEncryptOwnLogGroups",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${account}:log-group:*`,
        },
      },
    },
  ];
}

/**
 * Example identity policy for a tenant's operator: may call the tenant API only on
 * `/tenants/<tenant>/...` (its own configs and their validation), not the registry, not the
 * all-tenant listing. `apiArn` is the API's execute-api ARN (`arn:aws:execute-api:<region>:<account>:<api id>`).
 */
export function tenantOperatorApiPolicy(apiArn: string, tenantId: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "OwnTenantRoutesOnly",
        Effect: "Allow",
        Action: "execute-api:Invoke",
        Resource: [`${apiArn}/*/*/tenants/${tenantId}/*`, `${apiArn}/*/*/tenants/${tenantId}`],
      },
    ],
  };
}

/** Example identity policy for a platform admin: every route, the registry and the all-tenant listing included. */
export function platformAdminApiPolicy(apiArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "AllRoutes", Effect: "Allow", Action: "execute-api:Invoke", Resource: `${apiArn}/*` }],
  };
}
