import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { RECOVER_PARKED_EVENT } from "../../shared/contract";
import type { DeliveryEngine } from "../delivery/engine";
import type { Deadline } from "../delivery/retry";
import { DeadlineReachedError, TransientDeliveryError } from "../errors";
import type { DestinationRecovery, ParkedRecovery } from "../parking/recovery";
import { FairSlots } from "./fair-slots";
import { type QueuedMessage, readMessage } from "./notification";

/** Kept back from Lambda's remaining time: returning the batch response and flushing logs. */
export const LAMBDA_MARGIN_MS = 5_000;
/** A message is not started with less than this left: it would only checkpoint and stop. */
export const MIN_START_MS = 10_000;

/** The event the recovery schedule sends: probe parked destinations and deliver what waits. */
export type RecoverParkedEvent = typeof RECOVER_PARKED_EVENT;

const isRecoverEvent = (event: unknown): event is RecoverParkedEvent =>
  (event as { logrelay?: unknown } | null)?.logrelay === RECOVER_PARKED_EVENT.logrelay;

/**
 * SQS-triggered Lambda handler. Each message is delivered on its own, under a deadline of the
 * invocation's remaining time less a margin; only transient failures become batchItemFailures
 * (SQS retries them, then the DLQ). A destination that runs out of time has checkpointed what was
 * acknowledged, so the retry resumes there. Permanent failures were already recorded by the
 * engine (log line + metric + reason) and are acknowledged. The schedule's RecoverParkedEvent runs
 * the recovery of parked deliveries instead.
 */
export interface HandlerTiming {
  readonly marginMs?: number;
  readonly minStartMs?: number;
  /** Records delivered at once (MAX_PARALLEL_DELIVERIES); the rest wait. @default the whole batch */
  readonly maxParallel?: number;
}

export function makeHandler(engine: DeliveryEngine, timing: HandlerTiming = {}, recovery?: ParkedRecovery) {
  const processor = new BatchProcessor(EventType.SQS);
  const marginMs = timing.marginMs ?? LAMBDA_MARGIN_MS;
  function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
  function handler(
    event: RecoverParkedEvent,
    context: Context,
  ): Promise<{ destinations: DestinationRecovery[] }>;
  function handler(event: SQSEvent | RecoverParkedEvent, context: Context) {
    const remaining = () => context.getRemainingTimeInMillis() - marginMs;
    const deadline = engine.newDeadline(remaining());
    // The schedule's event: probe parked destinations, deliver what waits on those that work again.
    if (isRecoverEvent(event)) {
      if (!recovery) return Promise.resolve({ destinations: [] });
      return recovery.run({ probe: true, deadline }).then((destinations) => ({ destinations }));
    }
    const deliver = recordDelivery(engine, deadline, remaining, timing.minStartMs ?? MIN_START_MS);
    // Records run concurrently (Powertools), at most maxParallel at once; a freed slot goes to the
    // tenant with the fewest running, so one tenant's records in a batch do not hold back the others'.
    const slots = new FairSlots(
      Math.max(1, Math.min(event.Records.length, timing.maxParallel ?? event.Records.length)),
    );
    const fairly = (record: SQSRecord) => {
      const message = readMessage(record.body);
      return slots.run(
        message.tenant,
        () => deliver(record, message),
        () => Promise.reject(new Error("not started")),
      );
    };
    return processPartialResponse(event, fairly, processor, { context, throwOnFullBatchFailure: false });
  }
  return handler;
}

/** Delivers one record under the invocation's deadline; a transient failure throws (a batch item failure). */
function recordDelivery(
  engine: DeliveryEngine,
  deadline: Deadline,
  remaining: () => number,
  minStartMs: number,
) {
  return async (record: SQSRecord, message: QueuedMessage) => {
    if (remaining() < minStartMs) {
      throw new DeadlineReachedError(
        `message ${record.messageId} not started: the invocation is out of time`,
      );
    }
    const result = await engine.processMessage(message, { message_id: record.messageId }, deadline);
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
}
