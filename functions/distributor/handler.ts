import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { DeliveryEngine } from "./engine";
import { DeadlineReachedError, TransientDeliveryError } from "./errors";

/** Kept back from Lambda's remaining time: returning the batch response and flushing logs. */
export const LAMBDA_MARGIN_MS = 5_000;
/** A message is not started with less than this left: it would only checkpoint and stop. */
export const MIN_START_MS = 10_000;

/**
 * SQS-triggered Lambda handler. Each message is delivered on its own, under a deadline of the
 * invocation's remaining time less a margin; only transient failures become batchItemFailures
 * (SQS retries them, then the DLQ). A destination that runs out of time has checkpointed what was
 * acknowledged, so the retry resumes there. Permanent failures were already recorded by the
 * engine (log line + metric + reason) and are acknowledged.
 */
export function makeHandler(
  engine: DeliveryEngine,
  timing: { readonly marginMs?: number; readonly minStartMs?: number } = {},
) {
  const processor = new BatchProcessor(EventType.SQS);
  const marginMs = timing.marginMs ?? LAMBDA_MARGIN_MS;
  const minStartMs = timing.minStartMs ?? MIN_START_MS;
  return (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const remaining = () => context.getRemainingTimeInMillis() - marginMs;
    const deadline = engine.newDeadline(remaining());
    const deliverRecord = async (record: SQSRecord) => {
      if (remaining() < minStartMs) {
        throw new DeadlineReachedError(
          `message ${record.messageId} not started: the invocation is out of time`,
        );
      }
      const result = await engine.processMessage(record.body, { message_id: record.messageId }, deadline);
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
    return processPartialResponse(event, deliverRecord, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  };
}
