import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  S3BucketLifecycleConfiguration,
  type S3BucketLifecycleConfigurationRule,
} from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { type PolicyStatement, policyJson, tlsOnly } from "./iam";

export interface EncryptedBucketProps {
  readonly bucketName: string;
  /** Customer-managed key for SSE-KMS (with an S3 bucket key, so KMS calls stay few). */
  readonly kmsKey: { readonly arn: string };
  /** @default false */
  readonly versioning?: boolean;
  /** Delete objects (and noncurrent versions) this many days after creation. @default never */
  readonly expireAfterDays?: number;
  /** Transition to INTELLIGENT_TIERING after this many days. @default never */
  readonly intelligentTieringAfterDays?: number;
  /** Deny every request without TLS. Off only in emulator mode (moto denies all requests then). @default true */
  readonly tlsOnly?: boolean;
  /** Further bucket-policy statements, e.g. service access. @default none */
  readonly policyStatements?: PolicyStatement[];
  readonly provider?: TerraformProvider;
}

/** A private S3 bucket: SSE-KMS with bucket key, public access blocked, ACLs disabled, TLS only. */
export class EncryptedBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly arn: string;
  readonly name: string;

  constructor(scope: Construct, id: string, props: EncryptedBucketProps) {
    super(scope, id);
    if (props.expireAfterDays !== undefined && props.expireAfterDays < 1) {
      throw new Error(`expireAfterDays must be at least 1, got ${props.expireAfterDays}`);
    }
    const provider = props.provider;
    this.bucket = new S3Bucket(this, "bucket", { bucket: props.bucketName, provider });
    this.arn = this.bucket.arn;
    this.name = this.bucket.bucket;
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
      provider,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
      provider,
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKey.arn },
          bucketKeyEnabled: true,
        },
      ],
      provider,
    });
    if (props.versioning) {
      new S3BucketVersioningA(this, "versioning", {
        bucket: this.bucket.id,
        versioningConfiguration: { status: "Enabled" },
        provider,
      });
    }
    const rules: S3BucketLifecycleConfigurationRule[] = [];
    rules.push({
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: [{ prefix: "" }],
      abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
    });
    if (props.expireAfterDays !== undefined) {
      rules.push({
        id: "expire-staged-objects",
        status: "Enabled",
        filter: [{ prefix: "" }],
        expiration: [{ days: props.expireAfterDays }],
        ...(props.versioning && { noncurrentVersionExpiration: [{ noncurrentDays: 1 }] }),
      });
    }
    if (props.intelligentTieringAfterDays !== undefined) {
      rules.push({
        id: "intelligent-tiering",
        status: "Enabled",
        filter: [{ prefix: "" }],
        transition: [{ days: props.intelligentTieringAfterDays, storageClass: "INTELLIGENT_TIERING" }],
      });
    }
    new S3BucketLifecycleConfiguration(this, "lifecycle", { bucket: this.bucket.id, rule: rules, provider });
    const statements = [
      ...(props.tlsOnly === false ? [] : [tlsOnly([this.arn, `${this.arn}/*`])]),
      ...(props.policyStatements ?? []),
    ];
    if (statements.length > 0) {
      new S3BucketPolicy(this, "policy", {
        bucket: this.bucket.id,
        policy: policyJson(...statements),
        dependsOn: [publicAccess],
        provider,
      });
    }
  }
}
