import { gzipSync } from "node:zlib";
import type { SQSRecord } from "aws-lambda";

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
