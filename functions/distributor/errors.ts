/**
 * Error hierarchy of the distributor. Every failure is either permanent (retrying cannot help:
 * record it and acknowledge the message) or transient (retry with backoff, then let SQS redeliver).
 * `classify` is the one place that decides which.
 */
export abstract class LogrelayError extends Error {
  abstract readonly retryable: boolean;
}

export class MalformedMessageError extends LogrelayError {
  override readonly name = "MalformedMessageError";
  readonly retryable = false;
}

export class MalformedKeyError extends LogrelayError {
  override readonly name = "MalformedKeyError";
  readonly retryable = false;
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`malformed object key ${JSON.stringify(key)}: ${reason}`);
  }
}

export class InvalidConfigError extends LogrelayError {
  override readonly name = "InvalidConfigError";
  readonly retryable = false;
}

export class CorruptObjectError extends LogrelayError {
  override readonly name = "CorruptObjectError";
  readonly retryable = false;
}

/** The customer's role or resource refuses us: nothing changes until the customer fixes it. */
export class DestinationDeniedError extends LogrelayError {
  override readonly name = "DestinationDeniedError";
  readonly retryable = false;
}

export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

/** A message with at least one destination that failed transiently: SQS must redeliver it. */
export class TransientDeliveryError extends LogrelayError {
  override readonly name = "TransientDeliveryError";
  readonly retryable = true;
}

const PERMANENT_AWS_ERRORS = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "AuthorizationError",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "NoSuchBucket",
  "NoSuchKey",
  "NotFound",
  "InvalidParameterException",
  "ValidationException",
  "ValidationError",
  "MalformedPolicyDocument",
  "RegionDisabledException",
  "InvalidAccessKeyId",
  "KMSAccessDeniedException",
  "DataAlreadyAcceptedException",
  "InvalidBucketName",
  "PermanentRedirect",
]);

const TRANSIENT_AWS_ERRORS = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "SlowDown",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "ProvisionedThroughputExceededException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ExpiredToken",
  "ExpiredTokenException",
  "IDPCommunicationError",
  "OperationAbortedException",
]);

const TRANSIENT_NODE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_SOCKET",
]);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export type Classification = "permanent" | "transient";

/** Decides whether retrying an error can succeed. Unknown errors count as transient (SQS redelivers, then DLQ). */
export function classify(error: unknown): Classification {
  if (error instanceof LogrelayError) return error.retryable ? "transient" : "permanent";
  if (typeof error !== "object" || error === null) return "transient";
  const e = error as AwsLikeError;
  const name = typeof e.name === "string" ? e.name : "";
  const code = typeof e.code === "string" ? e.code : typeof e.Code === "string" ? e.Code : "";
  if (TRANSIENT_AWS_ERRORS.has(name) || TRANSIENT_AWS_ERRORS.has(code)) return "transient";
  if (TRANSIENT_NODE_CODES.has(code) || name === "AbortError") return "transient";
  if (e.$retryable) return "transient";
  if (PERMANENT_AWS_ERRORS.has(name) || PERMANENT_AWS_ERRORS.has(code)) return "permanent";
  const status = typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined;
  if (status === 429 || (status !== undefined && status >= 500)) return "transient";
  if (status === 403) return "permanent";
  if (e.$fault === "server") return "transient";
  return "transient";
}

/** Short, log-safe description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
