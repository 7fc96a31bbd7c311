import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogStream } from "@cdktf/provider-aws/lib/cloudwatch-log-stream";
import { GlueCatalogDatabase } from "@cdktf/provider-aws/lib/glue-catalog-database";
import { GlueCatalogTable } from "@cdktf/provider-aws/lib/glue-catalog-table";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import {
  KinesisFirehoseDeliveryStream,
  type KinesisFirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfiguration,
} from "@cdktf/provider-aws/lib/kinesis-firehose-delivery-stream";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import {
  FIREHOSE_ERRORS_PREFIX,
  KEY_SEGMENT_PATTERN,
  TENANT_ID_PATTERN,
} from "../../functions/shared/patterns";
import { IAM_PATH } from "../naming";
import { type PolicyStatement, policyJson } from "./iam";

/** A column of the record schema (all strings: the collector writes text fields only). */
export interface RecordColumn {
  readonly name: string;
  readonly comment?: string;
}

export interface PartitionedFirehoseProps {
  readonly streamName: string;
  readonly bucket: { readonly arn: string; readonly name: string };
  readonly kmsKey: { readonly arn: string };
  readonly accountId: string;
  readonly region: string;
  /** @default 128 (Firehose's largest buffer) */
  readonly bufferingSizeMb?: number;
  /** @default 900 (Firehose's longest interval) */
  readonly bufferingIntervalSeconds?: number;
  /**
   * json: gzipped NDJSON objects (`.gz`). parquet: Parquet objects (`.parquet`, Snappy inside),
   * converted with the schema of `columns` kept in a Glue table. @default "json"
   */
  readonly format?: "json" | "parquet";
  /** The record schema; required for parquet. */
  readonly columns?: readonly RecordColumn[];
  readonly logRetentionDays: number;
  readonly provider?: TerraformProvider;
}

/** Record fields that become key segments: the same layout as direct-to-S3 staging. */
export const PARTITION_KEYS = ["tenant_id", "cluster_id", "application", "pod_name"] as const;
export const FIREHOSE_PREFIX = `${PARTITION_KEYS.map((k) => `!{partitionKeyFromQuery:${k}}`).join("/")}/`;
/** Records Firehose could not partition, convert or deliver, by error type (e.g. activePartitionExceeded). */
export const FIREHOSE_ERROR_PREFIX = `${FIREHOSE_ERRORS_PREFIX}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`;
export const FIREHOSE_EXTENSION = { json: ".gz", parquet: ".parquet" } as const;

const SEGMENT_RULES: Record<(typeof PARTITION_KEYS)[number], RegExp> = {
  tenant_id: TENANT_ID_PATTERN,
  cluster_id: KEY_SEGMENT_PATTERN,
  application: KEY_SEGMENT_PATTERN,
  pod_name: KEY_SEGMENT_PATTERN,
};

/**
 * The JQ 1.6 query Firehose runs to extract the partition keys. Each value must pass the same
 * rule the distributor applies to that key segment (functions/shared/patterns.ts); otherwise the
 * query fails and Firehose writes the record to its error output instead of a key no tenant gets.
 */
export function partitionQuery(): string {
  const keys = PARTITION_KEYS.map(
    (k) =>
      `${k}: (.${k} | if type == "string" and test(${JSON.stringify(SEGMENT_RULES[k].source)}) then . else error("${k} is missing or not a valid key segment") end)`,
  );
  return `{${keys.join(", ")}}`;
}

/**
 * The Firehose ingestion option: collectors put JSON records, Firehose partitions them by the
 * record's tenant/cluster/application/pod (JQ extraction) into the key layout the distributor
 * reads, `<tenant>/<cluster>/<application>/<pod>/<stream>-<version>-<time>-<uuid>.gz`, gzipped
 * NDJSON, or Parquet with the `parquet` format. Records it cannot partition, convert or deliver
 * land under `_firehose-errors/<error type>/`, with the original record in `rawData`.
 */
export class PartitionedFirehose extends Construct {
  readonly stream: KinesisFirehoseDeliveryStream;
  readonly table?: GlueCatalogTable;
  readonly fileExtension: string;

  constructor(scope: Construct, id: string, props: PartitionedFirehoseProps) {
    super(scope, id);
    const provider = props.provider;
    const format = props.format ?? "json";
    const bufferingSizeMb = props.bufferingSizeMb ?? 128;
    if (format === "parquet" && !props.columns?.length) {
      throw new Error("the parquet format needs the record schema: pass columns");
    }
    if (bufferingSizeMb < 64 || bufferingSizeMb > 128) {
      // Dynamic partitioning needs at least 64 MB; 128 MB is Firehose's maximum.
      throw new Error(`bufferingSizeMb must be 64-128 with dynamic partitioning, got ${bufferingSizeMb}`);
    }
    this.fileExtension = FIREHOSE_EXTENSION[format];

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

    let conversion:
      | KinesisFirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfiguration
      | undefined;
    const readSchema: PolicyStatement[] = [];
    if (format === "parquet") {
      const database = new GlueCatalogDatabase(this, "database", {
        name: props.streamName.replace(/-/g, "_"),
        description: `logrelay staged records of ${props.streamName}`,
        provider,
      });
      this.table = new GlueCatalogTable(this, "table", {
        databaseName: database.name,
        name: "staged_records",
        tableType: "EXTERNAL_TABLE",
        parameters: { classification: "parquet", EXTERNAL: "TRUE" },
        storageDescriptor: {
          location: `s3://${props.bucket.name}/`,
          inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
          outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
          serDeInfo: {
            name: "parquet",
            serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
          },
          columns: (props.columns ?? []).map((c) => ({
            name: c.name,
            type: "string",
            ...(c.comment && { comment: c.comment }),
          })),
        },
        provider,
      });
      conversion = {
        enabled: true,
        inputFormatConfiguration: { deserializer: { openXJsonSerDe: {} } },
        outputFormatConfiguration: {
          // 64 MB row groups: the distributor reads one row group at a time.
          serializer: { parquetSerDe: { compression: "SNAPPY", blockSizeBytes: 67_108_864 } },
        },
        schemaConfiguration: {
          databaseName: database.name,
          tableName: this.table.name,
          roleArn: role.arn,
          region: props.region,
        },
      };
      const catalog = `arn:aws:glue:${props.region}:${props.accountId}`;
      readSchema.push({
        Sid: "ReadRecordSchema",
        Effect: "Allow",
        Action: ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
        Resource: [
          `${catalog}:catalog`,
          `${catalog}:database/${database.name}`,
          `${catalog}:table/${database.name}/${this.table.name}`,
        ],
      });
    }

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
        ...readSchema,
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
        bufferingSize: bufferingSizeMb,
        bufferingInterval: props.bufferingIntervalSeconds ?? 900,
        // Parquet compresses inside the file; Firehose refuses compression on top of conversion.
        compressionFormat: format === "json" ? "GZIP" : "UNCOMPRESSED",
        // Named explicitly: the staging bucket's notification filters on it.
        fileExtension: this.fileExtension,
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
                  parameterValue: partitionQuery(),
                },
              ],
            },
            // NDJSON: one record per line (Vector puts one event per record, no newline).
            ...(format === "json"
              ? [
                  {
                    type: "AppendDelimiterToRecord",
                    parameters: [{ parameterName: "Delimiter", parameterValue: "\\n" }],
                  },
                ]
              : []),
          ],
        },
        ...(conversion && { dataFormatConversionConfiguration: conversion }),
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
