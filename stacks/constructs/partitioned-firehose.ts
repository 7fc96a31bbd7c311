import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogStream } from "@cdktf/provider-aws/lib/cloudwatch-log-stream";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KinesisFirehoseDeliveryStream } from "@cdktf/provider-aws/lib/kinesis-firehose-delivery-stream";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { IAM_PATH } from "../naming";
import { policyJson } from "./iam";

export interface PartitionedFirehoseProps {
  readonly streamName: string;
  readonly bucket: { readonly arn: string };
  readonly kmsKey: { readonly arn: string };
  readonly accountId: string;
  /** @default 128 (the seeds' size) */
  readonly bufferingSizeMb?: number;
  /** @default 900 */
  readonly bufferingIntervalSeconds?: number;
  readonly logRetentionDays: number;
  readonly provider?: TerraformProvider;
}

/** Record fields that become key segments: the same layout as direct-to-S3 staging. */
export const PARTITION_KEYS = ["tenant_id", "cluster_id", "application", "pod_name"] as const;
export const FIREHOSE_PREFIX = `${PARTITION_KEYS.map((k) => `!{partitionKeyFromQuery:${k}}`).join("/")}/`;
export const FIREHOSE_ERROR_PREFIX =
  "_firehose-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/";

/**
 * The Firehose ingestion option: collectors put JSON records, Firehose partitions them by the
 * record's tenant/cluster/application/pod (JQ extraction) into the same key layout the
 * distributor reads, newline-delimited and gzipped. Records it cannot partition (for example
 * quarantined ones, which carry no tenant) land under the error prefix.
 */
export class PartitionedFirehose extends Construct {
  readonly stream: KinesisFirehoseDeliveryStream;

  constructor(scope: Construct, id: string, props: PartitionedFirehoseProps) {
    super(scope, id);
    const provider = props.provider;
    const logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/aws/kinesisfirehose/${props.streamName}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKey.arn,
      provider,
    });
    const logStream = new CloudwatchLogStream(this, "log-stream", {
      name: "S3Delivery",
      logGroupName: logGroup.name,
      provider,
    });
    const role = new IamRole(this, "role", {
      name: `${props.streamName}-firehose`.slice(0, 64),
      path: IAM_PATH,
      assumeRolePolicy: policyJson({
        Effect: "Allow",
        Principal: { Service: "firehose.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": props.accountId } },
      }),
      provider,
    });
    const rolePolicy = new IamRolePolicy(this, "role-policy", {
      role: role.id,
      name: "deliver-to-staging",
      policy: policyJson(
        {
          Sid: "WriteStagingBucket",
          Effect: "Allow",
          Action: [
            "s3:PutObject",
            "s3:AbortMultipartUpload",
            "s3:GetBucketLocation",
            "s3:ListBucket",
            "s3:ListBucketMultipartUploads",
          ],
          Resource: [props.bucket.arn, `${props.bucket.arn}/*`],
        },
        {
          Sid: "EncryptObjects",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: props.kmsKey.arn,
        },
        { Sid: "ErrorLogs", Effect: "Allow", Action: "logs:PutLogEvents", Resource: `${logGroup.arn}:*` },
      ),
      provider,
    });
    this.stream = new KinesisFirehoseDeliveryStream(this, "stream", {
      name: props.streamName,
      destination: "extended_s3",
      serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: props.kmsKey.arn },
      extendedS3Configuration: {
        roleArn: role.arn,
        bucketArn: props.bucket.arn,
        kmsKeyArn: props.kmsKey.arn,
        bufferingSize: props.bufferingSizeMb ?? 128,
        bufferingInterval: props.bufferingIntervalSeconds ?? 900,
        compressionFormat: "GZIP",
        prefix: FIREHOSE_PREFIX,
        errorOutputPrefix: FIREHOSE_ERROR_PREFIX,
        dynamicPartitioningConfiguration: { enabled: true },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: "MetadataExtraction",
              parameters: [
                { parameterName: "JsonParsingEngine", parameterValue: "JQ-1.6" },
                {
                  parameterName: "MetadataExtractionQuery",
                  parameterValue: `{${PARTITION_KEYS.map((k) => `${k}:.${k}`).join(",")}}`,
                },
              ],
            },
            {
              type: "AppendDelimiterToRecord",
              parameters: [{ parameterName: "Delimiter", parameterValue: "\\n" }],
            },
          ],
        },
        cloudwatchLoggingOptions: {
          enabled: true,
          logGroupName: logGroup.name,
          logStreamName: logStream.name,
        },
      },
      dependsOn: [rolePolicy],
      provider,
    });
  }
}
