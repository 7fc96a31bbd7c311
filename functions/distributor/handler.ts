import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { DeliveryEngine } from "./engine";
import { TransientDeliveryError } from "./errors";

/**
 * SQS-triggered Lambda handler. Each message is delivered on its own; only transient failures
 * become batchItemFailures (SQS retries them, then the DLQ). Permanent failures were already
 * recorded by the engine (log line + metric + reason) and are acknowledged.
 */
export function makeHandler(engine: DeliveryEngine) {
  const processor = new BatchProcessor(EventType.SQS);
  const deliverRecord = async (record: SQSRecord) => {
    const result = await engine.processMessage(record.body, { message_id: record.messageId });
    if (result.status === "failed_transient") {
      throw new TransientDeliveryError(
        `message ${record.messageId} will be retried: ${result.objects
          .filter((o) => o.status === "failed_transient")
          .map((o) => `${o.key}: ${o.reason}`)
          .join("; ")}`,
      );
    }
    return result.status;
  };
  return (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, deliverRecord, processor, { context, throwOnFullBatchFailure: false });
}
