import { gzipSync } from "node:zlib";
import type { SQSRecord } from "aws-lambda";
import { parquetWriteBuffer } from "hyparquet-writer";
import { STAGED_RECORD_COLUMNS } from "../../stacks/collector/templates";

/** Builders for the messages and objects the distributor sees in production. */

export function s3Event(
  bucket: string,
  key: string,
  options: { eventName?: string; eventTime?: Date; size?: number; sequencer?: string; eTag?: string } = {},
) {
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: (options.eventTime ?? new Date()).toISOString(),
        eventName: options.eventName ?? "ObjectCreated:Put",
        s3: {
          s3SchemaVersion: "1.0",
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: {
            // As S3 sends it: form-encoded.
            key: encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+"),
            size: options.size ?? 100,
            sequencer: options.sequencer ?? "0055AED6DCD90281E5",
            ...(options.eTag && { eTag: options.eTag }),
          },
        },
      },
    ],
  };
}

export function snsEnvelope(message: unknown): Record<string, unknown> {
  return {
    Type: "Notification",
    MessageId: "7b7a2a4e-0b0c-4a7e-9f0e-1f0b9e0a0001",
    TopicArn: "arn:aws:sns:us-east-1:123456789012:logrelay-objects",
    Message: JSON.stringify(message),
    Timestamp: new Date().toISOString(),
  };
}

export function sqsRecord(body: string, messageId = "m-1"): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "AIDA",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:logrelay-delivery",
    awsRegion: "us-east-1",
  };
}

/** A Vector-style event as the collector writes it (see charts/ and the VRL programs). */
export function vectorEvent(message: string, timestamp: Date, extra: Record<string, unknown> = {}) {
  return { message, timestamp: timestamp.toISOString(), ...extra };
}

export function ndjsonGz(records: unknown[]): Buffer {
  return gzipSync(Buffer.from(`${records.map((r) => JSON.stringify(r)).join("\n")}\n`));
}

/**
 * A Parquet object as Firehose's format conversion writes one: every column of the staged-record
 * schema as an optional UTF-8 string, Snappy-compressed, `rowGroupSize` rows per row group.
 */
export function parquetObject(
  rows: Record<string, string | null | undefined>[],
  options: { rowGroupSize?: number; columns?: readonly string[] } = {},
): Buffer {
  const columns = options.columns ?? STAGED_RECORD_COLUMNS.map((c) => c.name);
  const buffer = parquetWriteBuffer({
    columnData: columns.map((name) => ({
      name,
      type: "STRING" as const,
      nullable: true,
      data: rows.map((r) => r[name] ?? null),
    })),
    codec: "SNAPPY",
    ...(options.rowGroupSize && { rowGroupSize: options.rowGroupSize }),
  });
  return Buffer.from(buffer);
}

/** A key in the layout Firehose writes with logrelay's partitioning (stream, version, time, UUID). */
export function firehoseKey(
  segments: { tenant: string; cluster: string; application: string; pod: string },
  extension: ".gz" | ".parquet",
  stream = "logrelay-prod-us-east-1-ingest",
): string {
  return `${segments.tenant}/${segments.cluster}/${segments.application}/${segments.pod}/${stream}-1-2026-11-22-10-15-30-0b7c6f2e-7f3a-4a53-9d55-1f0e2b3c4d5e${extension}`;
}

/** An error as the AWS SDK builds it from a service's answer: name, message, HTTP status. */
export const awsError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), {
    name,
    ...(status && { $metadata: { httpStatusCode: status } }),
    ...extra,
  });
