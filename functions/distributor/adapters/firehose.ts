import { type FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import { hasErrorName } from "../../shared/errors";
import { DestinationDeniedError, isAccessDenied } from "../errors";
import type { DestinationSession, FirehoseApi, FirehoseFactory, PutRecordBatchResult } from "../ports";
import { ClientCache } from "./client-cache";

/**
 * PutRecordBatch refusals that only the customer can end (besides access denied, which
 * isAccessDenied knows): the stream is gone, its KMS key refuses, or it takes no direct puts.
 */
const CUSTOMER_SIDE = ["ResourceNotFoundException", "InvalidKMSResourceException", "InvalidSourceException"];

/** Kinesis Data Firehose of one destination session (the customer's account and the stream's region). */
export class FirehoseAdapter implements FirehoseApi {
  constructor(private readonly client: Pick<FirehoseClient, "send">) {}

  async putRecordBatch(streamName: string, records: readonly Uint8Array[]): Promise<PutRecordBatchResult> {
    try {
      const out = await this.client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: streamName,
          Records: records.map((Data) => ({ Data })),
        }),
      );
      if (!out.FailedPutCount) return { failed: [] };
      const failed: { index: number; code: string; message: string }[] = [];
      (out.RequestResponses ?? []).forEach((r, index) => {
        if (r.ErrorCode) failed.push({ index, code: r.ErrorCode, message: r.ErrorMessage ?? "" });
      });
      return { failed };
    } catch (error) {
      if (isAccessDenied(error) || hasErrorName(error, ...CUSTOMER_SIDE))
        throw new DestinationDeniedError(`Firehose refused ${streamName}: ${(error as Error).message}`, {
          cause: error,
        });
      throw error;
    }
  }
}

/** Firehose in the customer's account, one client per session. */
export function firehoseFactory(
  makeClient: (session: DestinationSession) => Pick<FirehoseClient, "send">,
): FirehoseFactory {
  const cache = new ClientCache<FirehoseAdapter>();
  return (session) => cache.get(session, () => new FirehoseAdapter(makeClient(session)));
}
