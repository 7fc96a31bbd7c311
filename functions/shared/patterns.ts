/**
 * Identifier rules shared by the collector (VRL), the distributor (key parsing) and the
 * tenant API. One place, so the three can never disagree about what a valid key is.
 */

export const QUARANTINE_PREFIX = "_quarantine/";
export const FIREHOSE_ERRORS_PREFIX = "_firehose-errors/";

/**
 * Prefixes of the staging bucket that hold the pipeline's own objects, never tenant data (tenant
 * ids cannot start with '_'). Each says what is there and what to do about it.
 */
export const PIPELINE_PREFIXES: Readonly<Record<string, string>> = {
  [QUARANTINE_PREFIX]:
    "collector quarantine: events without a valid tenant, application or pod name (see the reason in the key)",
  [FIREHOSE_ERRORS_PREFIX]:
    "Firehose error output: records it could not partition, convert or deliver; re-put them with `logrelay firehose redrive`",
};

/** Tenant ids are DNS labels: lowercase letters, digits and '-', 1-63 chars, no leading/trailing '-'. */
export const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * cluster_id, application and pod_name key segments: start with a letter or digit, then letters,
 * digits, '.', '_' or '-', 1-253 chars (the Kubernetes DNS-subdomain length). This excludes empty
 * segments, '.', '..', '/', spaces and control characters by construction.
 */
export const KEY_SEGMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/**
 * The object's file name (last key segment), as Vector's `filename_time_format` and Firehose may
 * write it (`2026-11-28T21:54:48-<uuid>.json.gz`, `+`, spaces, ...): any characters but '/' and
 * control characters, 1-255 of them, never '.' or '..'. It is never part of a stream name; in the
 * customer's bucket it is the last segment of the copy's key.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it excludes
export const KEY_FILE_PATTERN = /^(?!\.{1,2}$)[^/\u0000-\u001f\u007f]{1,255}$/u;

/** Application names in desired_logs must be valid application key segments. */
export const APPLICATION_PATTERN = KEY_SEGMENT_PATTERN;

/** A 12-digit AWS account id. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;

/** Full IAM role ARN, paths allowed: arn:<partition>:iam::<12 digits>:role/<path/>name. */
export const ROLE_ARN_PATTERN =
  /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):role\/(?:[\x21-\x7E]{1,510}\/)?[\w+=,.@-]{1,64}$/;

/** A Firehose delivery stream ARN: region (1) and account (2) captured; names are 1-64 of [a-zA-Z0-9_.-]. */
export const FIREHOSE_STREAM_ARN_PATTERN =
  /^arn:aws(?:-cn|-us-gov)?:firehose:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):deliverystream\/[a-zA-Z0-9_.-]{1,64}$/;

/** sts:ExternalId rules: 2-1224 chars of [\w+=,.@:/-]. */
export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;

/** CloudWatch Logs group names: 1-512 chars of [.-_/#A-Za-z0-9]. */
export const LOG_GROUP_NAME_PATTERN = /^[.\-_/#A-Za-z0-9]{1,512}$/;

/** S3 bucket names (general purpose): 3-63 chars, lowercase, digits, '.', '-', alphanumeric ends. */
export const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * A key prefix in a customer's bucket: empty, or '/'-terminated segments of S3's safe characters,
 * without `*` or `?` (a session or role policy built from the prefix would match other keys) and
 * without `.` or `..` segments. The one rule for configs, onboarding and customer stacks.
 */
export const BUCKET_PREFIX_PATTERN = /^(?:(?!\.{1,2}\/)[A-Za-z0-9!_.'()-]+\/)*$/;

/** AWS region names such as us-east-1, eu-central-2, us-gov-west-1, cn-north-1. */
export const REGION_PATTERN = /^(?:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)$/;

/** Returns the 12-digit account id of a role ARN that matches ROLE_ARN_PATTERN. */
export function accountOfRoleArn(arn: string): string {
  const match = ROLE_ARN_PATTERN.exec(arn);
  if (!match) throw new Error(`not a role ARN: ${JSON.stringify(arn)}`);
  return match[1]!;
}

/** Retention values CloudWatch Logs accepts (days). */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** A KMS key ARN (single- or multi-Region key); the account is its 5th field. */
export const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):key\/(mrk-)?[0-9a-f-]{32,36}$/;
