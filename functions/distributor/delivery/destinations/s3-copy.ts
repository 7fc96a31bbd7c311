import type { S3Config } from "../../../shared/delivery-config";
import { accountOfRoleArn } from "../../../shared/patterns";
import type { LogObjectKey } from "../../admission/object-key";
import { countsOf } from "../../model/counts";
import type { SessionRequest } from "../../ports";
import {
  type Attempt,
  type DeliveryRun,
  type Destination,
  type DestinationDeps,
  sessionRequestFor,
  targetOf,
} from "./destination";

/** Where an object lands in the customer's bucket: `{bucket_prefix}{tenant}/{cluster}/{app}/{pod}/{file}`. */
export function customerObjectKey(prefix: string, key: LogObjectKey): string {
  return `${prefix}${key.tenantId}/${key.clusterId}/${key.application}/${key.podName}/${key.file}`;
}

/**
 * Session policy of the customer-role hop: PutObject under the tenant's prefix of one bucket, and
 * the customer's KMS key only through S3 in the bucket's region (a bucket with SSE-KMS needs
 * GenerateDataKey and Decrypt on the writer's session; the session policy intersects with the
 * role's, so without this statement such a put is refused). S3 uses the key only for requests the
 * session may make, i.e. puts under the prefix.
 */
export function s3SessionPolicy(bucket: string, keyPrefix: string, region: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["s3:PutObject"], Resource: [`arn:aws:s3:::${bucket}/${keyPrefix}*`] },
      {
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
      },
    ],
  });
}

/** Where and how an S3 config's objects are written: the same for a copy and a rewrite. */
export interface S3Placement {
  readonly target: string;
  /** The copy's key (a rewrite names its parts after it). */
  readonly key: string;
  /** The account the bucket must belong to: the role's. */
  readonly owner: string;
  readonly sessionRequest: SessionRequest;
}

export function s3Placement(config: S3Config, key: LogObjectKey, region: string): S3Placement {
  return {
    target: targetOf(config, region),
    key: customerObjectKey(config.bucket_prefix, key),
    owner: accountOfRoleArn(config.log_distribution_role_arn),
    sessionRequest: sessionRequestFor(
      config,
      key,
      region,
      s3SessionPolicy(config.bucket_name, `${config.bucket_prefix}${key.tenantId}/`, region),
    ),
  };
}

/** The metadata of every object logrelay writes into a customer's bucket: where it came from, when. */
export function deliveryMetadata(
  ref: DeliveryRun["ref"],
  key: LogObjectKey,
  now: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "logrelay-source-bucket": ref.bucket,
    "logrelay-source-key": ref.key,
    ...(ref.versionId && { "logrelay-source-version": ref.versionId }),
    "logrelay-tenant-id": key.tenantId,
    "logrelay-cluster-id": key.clusterId,
    ...extra,
    "logrelay-delivered-at": new Date(now).toISOString(),
  };
}

/**
 * Copies the staged object into the tenant's bucket with the customer's session. A copy is
 * idempotent (same object version, same key, same bytes), so a retried or repeated copy replaces
 * the object with itself: no checkpoint is needed, only the claim that keeps two attempts apart.
 */
export class S3CopyDestination implements Destination {
  readonly type = "s3" as const;
  readonly target: string;
  readonly sessionRequest: SessionRequest;
  private readonly placement: S3Placement;

  constructor(
    private readonly config: S3Config,
    private readonly key: LogObjectKey,
    region: string,
    private readonly deps: DestinationDeps,
  ) {
    this.placement = s3Placement(config, key, region);
    this.target = this.placement.target;
    this.sessionRequest = this.placement.sessionRequest;
  }

  async deliver(run: DeliveryRun): Promise<Attempt> {
    const { ref } = run;
    try {
      // A consumed body cannot be replayed: each attempt reopens the same version.
      const bytes = await this.deps.call(async () => {
        await run.claim.ensureHeld();
        const object = await this.deps.objects.open(ref.bucket, ref.key, run.pin);
        await this.deps.objectWriter.putObject(run.session, {
          bucket: this.config.bucket_name,
          key: this.placement.key,
          body: object.body,
          ...(object.contentLength !== undefined && { contentLength: object.contentLength }),
          ...(object.contentType !== undefined && { contentType: object.contentType }),
          expectedBucketOwner: this.placement.owner,
          metadata: deliveryMetadata(ref, this.key, this.deps.now()),
        });
        return object.contentLength ?? ref.size ?? 0;
      }, run.deadline);
      return { counts: { ...countsOf(), bytes, batches: 1 } };
    } catch (error) {
      return { counts: countsOf(), error };
    }
  }
}
