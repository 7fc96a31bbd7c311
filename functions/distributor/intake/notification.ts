import * as z from "zod";
import { isoTimeMs } from "../../shared/timestamps";
import { decodeEventKey } from "../admission/object-key";
import { MalformedKeyError, MalformedMessageError } from "../errors";

/** One staged object announced by an S3 ObjectCreated notification. */
export interface ObjectRef {
  readonly bucket: string;
  /** Decoded key. */
  readonly key: string;
  readonly size?: number;
  readonly versionId?: string;
  readonly eTag?: string;
  readonly sequencer?: string;
  /** When S3 says the object was created. */
  readonly eventTime: Date;
}

const S3RecordSchema = z.object({
  eventSource: z.literal("aws:s3"),
  eventName: z.string(),
  eventTime: z.string().refine((t) => isoTimeMs(t) !== undefined, "eventTime must be an ISO-8601 time"),
  s3: z.object({
    bucket: z.object({ name: z.string().min(3) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      versionId: z.string().optional(),
      eTag: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

const S3EventSchema = z.object({ Records: z.array(z.unknown()) });
const S3TestEventSchema = z.object({ Event: z.literal("s3:TestEvent") });
const SnsEnvelopeSchema = z.object({ Type: z.literal("Notification"), Message: z.string() });

export interface ParsedNotification {
  readonly objects: ObjectRef[];
  /** Records that are valid but not for us (test events, non-create events), with why. */
  readonly ignored: string[];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new MalformedMessageError(`${what} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * Parses an SQS message body: an SNS envelope holding an S3 event, or a raw S3 event. Both occur
 * (SNS raw delivery on or off, direct S3 -> SQS). Throws MalformedMessageError for anything else.
 */
export function parseNotification(body: string): ParsedNotification {
  let doc = parseJson(body, "message body");
  const envelope = SnsEnvelopeSchema.safeParse(doc);
  if (envelope.success) doc = parseJson(envelope.data.Message, "SNS Message");
  if (S3TestEventSchema.safeParse(doc).success) return { objects: [], ignored: ["s3:TestEvent"] };
  const event = S3EventSchema.safeParse(doc);
  if (!event.success) {
    throw new MalformedMessageError("message is neither an S3 event nor an SNS envelope holding one");
  }
  const objects: ObjectRef[] = [];
  const ignored: string[] = [];
  event.data.Records.forEach((raw, i) => {
    const record = S3RecordSchema.safeParse(raw);
    if (!record.success) {
      const first = record.error.issues[0];
      throw new MalformedMessageError(
        `Records[${i}] is not an S3 event record: ${first?.path.join(".")}: ${first?.message}`,
      );
    }
    const r = record.data;
    if (!r.eventName.startsWith("ObjectCreated:")) {
      ignored.push(`${r.eventName} ${r.s3.object.key}`);
      return;
    }
    const o = r.s3.object;
    objects.push({
      bucket: r.s3.bucket.name,
      // An undecodable key stays raw: key validation rejects it per record, not the whole message.
      key: decodeOrRaw(o.key),
      eventTime: parseEventTime(r.eventTime),
      ...(o.size !== undefined && { size: o.size }),
      ...(o.versionId && { versionId: o.versionId }),
      ...(o.eTag && { eTag: o.eTag }),
      ...(o.sequencer && { sequencer: o.sequencer }),
    });
  });
  return { objects, ignored };
}

function decodeOrRaw(key: string): string {
  try {
    return decodeEventKey(key);
  } catch (e) {
    if (e instanceof MalformedKeyError) return key;
    throw e;
  }
}

/** S3 sends UTC times; some emulators drop the "Z": the one time rule reads that as UTC, never local. */
function parseEventTime(text: string): Date {
  return new Date(isoTimeMs(text)!);
}

/**
 * An SQS message body, read once: its notification (or why it is malformed), and the tenant it is
 * for (its first object's key) for the per-tenant share; messages that do not parse share one key.
 */
export type QueuedMessage =
  | {
      readonly body: string;
      readonly tenant: string;
      readonly notification: ParsedNotification;
      readonly malformed?: undefined;
    }
  | {
      readonly body: string;
      readonly tenant: string;
      readonly notification?: undefined;
      readonly malformed: string;
    };

export function readMessage(body: string): QueuedMessage {
  try {
    const notification = parseNotification(body);
    return { body, notification, tenant: notification.objects[0]?.key.split("/")[0] || "(none)" };
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    return { body, malformed: error.message, tenant: "(malformed)" };
  }
}
