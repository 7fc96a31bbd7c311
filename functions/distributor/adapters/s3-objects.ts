import { Readable } from "node:stream";
import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { hasErrorName } from "../../shared/errors";
import { DestinationDeniedError, isAccessDenied, ObjectNotFoundError } from "../errors";
import type { ObjectIdentity } from "../model/ledger";
import type {
  DestinationSession,
  ObjectRanges,
  ObjectSource,
  ObjectWriter,
  PutObjectRequest,
  StagedObject,
  StagingExpiry,
} from "../ports";
import { isParquetKey } from "../reading/parquet-records";
import { ClientCache } from "./client-cache";

/** The version to read: the version id where the bucket has one, else the ETag must match. */
function pinned(pin?: ObjectIdentity): { VersionId: string } | { IfMatch: string } | Record<string, never> {
  if (pin?.versionId) return { VersionId: pin.versionId };
  if (pin?.eTag) return { IfMatch: pin.eTag.startsWith('"') ? pin.eTag : `"${pin.eTag}"` };
  return {};
}

/** Missing objects and replaced versions become ObjectNotFoundError (permanent, says which). */
async function reading<T>(bucket: string, key: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (hasErrorName(error, "NoSuchKey", "NotFound", "NoSuchVersion"))
      throw new ObjectNotFoundError(bucket, key);
    if (hasErrorName(error, "PreconditionFailed"))
      throw new ObjectNotFoundError(bucket, key, "was replaced by another version while being delivered");
    throw error;
  }
}

/** Reads staged objects with the distributor's own credentials; the body streams. */
export class S3ObjectSource implements ObjectSource {
  constructor(private readonly s3: Pick<S3Client, "send">) {}

  async open(bucket: string, key: string, pin?: ObjectIdentity): Promise<StagedObject> {
    const out = await reading(bucket, key, () =>
      this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...pinned(pin) })),
    );
    if (!out.Body) throw new Error(`GetObject s3://${bucket}/${key} returned no body`);
    return {
      body: out.Body as AsyncIterable<Uint8Array>,
      ...(out.ContentLength !== undefined && { contentLength: out.ContentLength }),
      ...(out.LastModified && { lastModified: out.LastModified }),
      ...(out.ContentType && { contentType: out.ContentType }),
    };
  }

  async ranges(bucket: string, key: string, pin?: ObjectIdentity): Promise<ObjectRanges> {
    const head = await reading(bucket, key, () =>
      (this.s3 as S3Client).send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...pinned(pin) })),
    );
    if (head.ContentLength === undefined)
      throw new Error(`HeadObject s3://${bucket}/${key} returned no size`);
    // Later reads must see the same bytes: pin the version, or the ETag where there is none.
    const same = pinned(
      head.VersionId && head.VersionId !== "null" ? { versionId: head.VersionId } : { eTag: head.ETag ?? "" },
    );
    return {
      size: head.ContentLength,
      ...(head.LastModified && { lastModified: head.LastModified }),
      read: async (start, end) => {
        if (end <= start) return new Uint8Array(0);
        const out = await reading(bucket, key, () =>
          this.s3.send(
            new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}`, ...same }),
          ),
        );
        if (!out.Body) throw new Error(`GetObject s3://${bucket}/${key} (range) returned no body`);
        return (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      },
    };
  }

  async identify(bucket: string, key: string): Promise<ObjectIdentity> {
    const out = await reading(bucket, key, () =>
      (this.s3 as S3Client).send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    );
    return {
      ...(out.VersionId && out.VersionId !== "null" && { versionId: out.VersionId }),
      ...(out.ETag && { eTag: out.ETag }),
    };
  }
}

/**
 * The staging bucket's expiry, from its lifecycle: the shortest enabled whole-bucket expiration
 * (days). Read once per process and bucket; undefined when the bucket has none or it cannot be read.
 */
export class S3StagingExpiry implements StagingExpiry {
  private readonly days = new Map<string, Promise<number | undefined>>();

  constructor(private readonly s3: Pick<S3Client, "send">) {}

  expiryDays(bucket: string): Promise<number | undefined> {
    let days = this.days.get(bucket);
    if (!days) {
      days = this.read(bucket);
      this.days.set(bucket, days);
    }
    return days;
  }

  private async read(bucket: string): Promise<number | undefined> {
    try {
      const out = await (this.s3 as S3Client).send(
        new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }),
      );
      const days = (out.Rules ?? [])
        .filter((r) => r.Status === "Enabled" && !r.Filter?.Prefix && !r.Filter?.Tag && !r.Filter?.And)
        .map((r) => r.Expiration?.Days)
        .filter((d): d is number => typeof d === "number");
      return days.length > 0 ? Math.min(...days) : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Writes into a customer's bucket with that customer's session: `ExpectedBucketOwner` makes S3
 * refuse a bucket of any other account, and the ACL hands the object to the bucket owner.
 * Single PUT (objects up to 5 GB; Vector's batches are far smaller).
 */
export class S3ObjectWriter implements ObjectWriter {
  private readonly clients = new ClientCache<S3Client>();

  constructor(private readonly makeClient: (session: DestinationSession) => Pick<S3Client, "send">) {}

  async putObject(session: DestinationSession, request: PutObjectRequest): Promise<void> {
    const client = this.clients.get(session, () => this.makeClient(session) as S3Client);
    const body = request.body instanceof Readable ? request.body : Readable.from(request.body);
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: request.bucket,
          Key: request.key,
          Body: body,
          ...(request.contentLength !== undefined && { ContentLength: request.contentLength }),
          ContentType: contentTypeOf(request.key, request.contentType),
          ...(request.key.endsWith(".gz") && { ContentEncoding: "gzip" }),
          ACL: "bucket-owner-full-control",
          ExpectedBucketOwner: request.expectedBucketOwner,
          Metadata: request.metadata,
        }),
      );
    } catch (error) {
      // Refused by the role, the bucket policy or the bucket's KMS key, or the bucket is gone.
      if (
        isAccessDenied(error) ||
        hasErrorName(error, "NoSuchBucket") ||
        /^KMS\./.test(String((error as Error).name))
      ) {
        throw new DestinationDeniedError(
          `S3 refused s3://${request.bucket}/${request.key}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/**
 * The copy's content type: the source's, unless that says nothing (none, or the octet-stream S3
 * and Firehose give objects written without one); then what the extension says.
 */
export function contentTypeOf(key: string, sourceType?: string): string {
  if (sourceType && !/^(application|binary)\/octet-stream$/i.test(sourceType)) return sourceType;
  return isParquetKey(key) ? "application/vnd.apache.parquet" : "application/x-ndjson";
}
