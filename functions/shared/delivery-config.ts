import * as z from "zod";
import { FilterSchema, RedactListSchema } from "./event-rules";
import {
  ACCOUNT_ID_PATTERN,
  APPLICATION_PATTERN,
  BUCKET_NAME_PATTERN,
  BUCKET_PREFIX_PATTERN,
  EXTERNAL_ID_PATTERN,
  FIREHOSE_STREAM_ARN_PATTERN,
  KMS_KEY_ARN_PATTERN,
  LOG_GROUP_NAME_PATTERN,
  LOG_RETENTION_DAYS,
  REGION_PATTERN,
  ROLE_ARN_PATTERN,
  TENANT_ID_PATTERN,
} from "./patterns";

/**
 * The tenant delivery configuration: one DynamoDB item per (tenant_id, type). This schema is the
 * single source of truth for every reader and writer (distributor, API, CLI).
 */

/** A 12-digit AWS account id: the one rule for environments, the registry and onboarding. */
export const AccountIdSchema = z.string().regex(ACCOUNT_ID_PATTERN, "must be a 12-digit AWS account id");

/** Where a delivery config sends logs; the one list every reader, writer and stack uses. */
export const DELIVERY_TYPES = ["cloudwatch", "s3", "firehose"] as const;
export type DeliveryType = (typeof DELIVERY_TYPES)[number];
export const DeliveryTypeSchema = z.enum(DELIVERY_TYPES);
export const isDeliveryType = (value: unknown): value is DeliveryType =>
  DELIVERY_TYPES.includes(value as DeliveryType);
/** "cloudwatch or s3", for messages and help texts. */
export const DELIVERY_TYPE_CHOICES = `${DELIVERY_TYPES.slice(0, -1).join(", ")} or ${DELIVERY_TYPES.at(-1)}`;

const trimmed = (max: number) => z.string().trim().min(1).max(max);

export const TenantIdSchema = z
  .string()
  .regex(TENANT_ID_PATTERN, "tenant_id must be a DNS label: a-z, 0-9 and '-', 1-63 characters");
export const RoleArnSchema = z
  .string()
  .regex(
    ROLE_ARN_PATTERN,
    "must be a full IAM role ARN, e.g. arn:aws:iam::123456789012:role/LogDistribution",
  );
export const ExternalIdSchema = z
  .string()
  .regex(EXTERNAL_ID_PATTERN, "external_id must be 2-1224 characters of letters, digits and +=,.@:/-");
/** A key prefix in a customer's bucket (BUCKET_PREFIX_PATTERN): used by configs, onboarding and customer stacks. */
export const BucketPrefixSchema = z
  .string()
  .max(512)
  .regex(
    BUCKET_PREFIX_PATTERN,
    "bucket_prefix must be empty or '/'-terminated segments of letters, digits and !_.'()- (no *, ?, . or ..)",
  );
export const RegionSchema = z.string().regex(REGION_PATTERN, "must be an AWS region such as us-east-1");
/** Days CloudWatch Logs keeps a log group's events: one of the values it accepts. */
export const RetentionDaysSchema = z
  .number()
  .int()
  .refine(
    (n) => LOG_RETENTION_DAYS.includes(n),
    `must be one of ${LOG_RETENTION_DAYS.join(", ")} (CloudWatch Logs)`,
  );

/** DynamoDB may hand back string sets; accept them as arrays. */
const stringList = (item: z.ZodString) =>
  z.preprocess((v) => (v instanceof Set ? [...v] : v), z.array(item)).default([]);

const common = {
  tenant_id: TenantIdSchema,
  enabled: z.boolean().default(true),
  desired_logs: stringList(
    z.string().regex(APPLICATION_PATTERN, "application names are letters, digits, '.', '_', '-' (max 253)"),
  ),
  groups: stringList(trimmed(64)),
  target_region: RegionSchema.optional(),
  ttl: z.number().int().positive().optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  version: z.number().int().nonnegative().optional(),
  /** The customer's role that logrelay assumes (double hop) to write into the customer's account. */
  log_distribution_role_arn: RoleArnSchema,
  /** The tenant's own ExternalId for that role, issued at onboarding; never shared between tenants. */
  external_id: ExternalIdSchema,
  /** Which events go (include/exclude rules on the record's fields and the message). */
  filter: FilterSchema.optional(),
  /** What is masked in what goes, before any byte leaves the platform. */
  redact: RedactListSchema.optional(),
};

export const CloudWatchConfigSchema = z.object({
  ...common,
  type: z.literal("cloudwatch"),
  log_group_name: z
    .string()
    .regex(LOG_GROUP_NAME_PATTERN, "log_group_name must be 1-512 characters of letters, digits and ._-/#"),
  /** Retention of the log group when logrelay creates it (default: the environment's). */
  retention_days: RetentionDaysSchema.optional(),
  /** The customer's KMS key the log group is created with (its policy must allow CloudWatch Logs). */
  kms_key_arn: z
    .string()
    .regex(
      KMS_KEY_ARN_PATTERN,
      "kms_key_arn must be a KMS key ARN, e.g. arn:aws:kms:us-east-1:123456789012:key/<id>",
    )
    .optional(),
});

/** A log group's key must belong to the account the role (and so the group) is in. */
function kmsKeyInRoleAccount(
  c: { readonly log_distribution_role_arn: string; readonly kms_key_arn?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const keyAccount = c.kms_key_arn === undefined ? undefined : KMS_KEY_ARN_PATTERN.exec(c.kms_key_arn)?.[1];
  // No key, or a malformed one (its own issue says so): nothing to compare.
  if (keyAccount === undefined) return;
  if (keyAccount !== ROLE_ARN_PATTERN.exec(c.log_distribution_role_arn)?.[1])
    ctx.addIssue({
      code: "custom",
      message: "kms_key_arn must be a key in the account of log_distribution_role_arn",
      path: ["kms_key_arn"],
    });
}

export const S3ConfigSchema = z.object({
  ...common,
  type: z.literal("s3"),
  bucket_name: z
    .string()
    .regex(BUCKET_NAME_PATTERN, "bucket_name must be 3-63 characters: a-z, 0-9, '.', '-'")
    .refine((b) => !b.includes(".."), "bucket_name must not contain '..'"),
  bucket_prefix: BucketPrefixSchema.default("ROSA/cluster-logs/"),
});

/** A Kinesis Data Firehose stream in the customer's account: each event becomes one record. */
export const FirehoseConfigSchema = z.object({
  ...common,
  type: z.literal("firehose"),
  delivery_stream_arn: z
    .string()
    .regex(
      FIREHOSE_STREAM_ARN_PATTERN,
      "delivery_stream_arn must be a Firehose stream ARN, e.g. arn:aws:firehose:us-east-1:123456789012:deliverystream/<name>",
    ),
});

/** A Firehose stream must be in the account of the role that writes to it. */
function streamInRoleAccount(
  c: { readonly log_distribution_role_arn: string; readonly delivery_stream_arn?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const streamAccount =
    c.delivery_stream_arn === undefined
      ? undefined
      : FIREHOSE_STREAM_ARN_PATTERN.exec(c.delivery_stream_arn)?.[2];
  if (
    streamAccount !== undefined &&
    streamAccount !== ROLE_ARN_PATTERN.exec(c.log_distribution_role_arn)?.[1]
  )
    ctx.addIssue({
      code: "custom",
      message: "delivery_stream_arn must be a stream in the account of log_distribution_role_arn",
      path: ["delivery_stream_arn"],
    });
}

/** The rules across fields of a config, for every schema of one (stored, written through the API). */
export function refineConfig(
  c: {
    readonly log_distribution_role_arn: string;
    readonly kms_key_arn?: string | undefined;
    readonly delivery_stream_arn?: string | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  kmsKeyInRoleAccount(c, ctx);
  streamInRoleAccount(c, ctx);
}

export const DeliveryConfigSchema = z
  .discriminatedUnion("type", [CloudWatchConfigSchema, S3ConfigSchema, FirehoseConfigSchema])
  .superRefine(refineConfig);

export type CloudWatchConfig = z.infer<typeof CloudWatchConfigSchema>;
export type S3Config = z.infer<typeof S3ConfigSchema>;
export type FirehoseConfig = z.infer<typeof FirehoseConfigSchema>;
export type DeliveryConfig = z.infer<typeof DeliveryConfigSchema>;
// Fails to compile when a config type is added to the union and not to DELIVERY_TYPES, or the reverse.
const _everyTypeListed: [DeliveryConfig["type"], DeliveryType] extends [DeliveryType, DeliveryConfig["type"]]
  ? true
  : never = true;
void _everyTypeListed;

/** The region a config's destination is in: a Firehose stream's own, else target_region, else `fallback`. */
export function destinationRegion(config: DeliveryConfig, fallback: string): string {
  if (config.type === "firehose") return FIREHOSE_STREAM_ARN_PATTERN.exec(config.delivery_stream_arn)![1]!;
  return config.target_region ?? fallback;
}

/** A Firehose stream's name: the part of its ARN after `deliverystream/`. */
export const streamNameOf = (streamArn: string): string => streamArn.slice(streamArn.indexOf("/") + 1);

/** Where a config's logs go, as people read it: the log group, `s3://bucket/prefix`, or the stream ARN. */
export function destinationName(
  config:
    | { readonly type: "cloudwatch"; readonly log_group_name: string }
    | { readonly type: "s3"; readonly bucket_name: string; readonly bucket_prefix: string }
    | { readonly type: "firehose"; readonly delivery_stream_arn: string },
): string {
  switch (config.type) {
    case "cloudwatch":
      return config.log_group_name;
    case "s3":
      return `s3://${config.bucket_name}/${config.bucket_prefix}`;
    case "firehose":
      return config.delivery_stream_arn;
  }
}

/** Field-level messages for an invalid config: `log_group_name: must be ...`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(config)"}: ${i.message}`);
}
