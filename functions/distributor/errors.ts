import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import type { SdkError } from "@smithy/types";
import { CustomerRoleRefusedError } from "../shared/credentials";
import { describeError } from "../shared/errors";

/**
 * Error hierarchy of the distributor and the one place that turns any thrown value into an
 * outcome. Every failure is either permanent (retrying cannot help: record it and acknowledge the
 * message) or transient (retry with backoff while time allows, then let SQS redeliver, resuming
 * from the last checkpoint).
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

/** A delivery-config item that does not pass the shared schema: it fails only itself. */
export class InvalidConfigError extends LogrelayError {
  override readonly name = "InvalidConfigError";
  readonly retryable = false;
}

/** The object's bytes cannot be decoded past some point (corrupt gzip, broken Parquet). */
export class CorruptObjectError extends LogrelayError {
  override readonly name: string = "CorruptObjectError";
  readonly retryable = false;
}

/**
 * The object is read no further than a cap on what one object may inflate to (its size, its
 * compression ratio): a gzip bomb or a runaway object from a cluster. Like a corrupt object, the
 * events before the cap are delivered and the object is refused for good.
 */
export class ObjectCapError extends CorruptObjectError {
  override readonly name = "ObjectCapError";
}

/**
 * The tenant registry refuses the delivery: the tenant is not registered, the destination's account
 * is not one of its accounts, or the object's cluster may not carry its logs. Nothing is sent.
 */
export class NotRegisteredError extends LogrelayError {
  override readonly name = "NotRegisteredError";
  readonly retryable = false;
}

/** The staged object is gone (expired by the bucket's lifecycle, or deleted) or was replaced. */
export class ObjectNotFoundError extends LogrelayError {
  override readonly name = "ObjectNotFoundError";
  readonly retryable = false;
  constructor(bucket: string, key: string, detail = "not found (expired or deleted?)") {
    super(`s3://${bucket}/${key} ${detail}`);
  }
}

/**
 * The customer's resource refuses us or is gone (role or resource policy, KMS key state, deleted
 * bucket): nothing changes until the customer fixes it. The delivery is parked, not dropped.
 */
export class DestinationDeniedError extends LogrelayError {
  override readonly name = "DestinationDeniedError";
  readonly retryable = false;
}

/**
 * The destination's breaker is open (it refused several deliveries in a row): the delivery is
 * parked at once, without an AssumeRole or any call to the customer's account.
 */
export class BreakerOpenError extends LogrelayError {
  override readonly name = "BreakerOpenError";
  readonly retryable = false;
}

/**
 * The invocation's time budget ran out before the destination finished. What was acknowledged is
 * checkpointed; the next attempt resumes there.
 */
export class DeadlineReachedError extends LogrelayError {
  override readonly name = "DeadlineReachedError";
  readonly retryable = true;
}

/**
 * Another attempt holds a live claim on this destination (a duplicate notification, or a slow
 * owner). Nothing was sent; the message is left for a later retry.
 */
export class ClaimedElsewhereError extends LogrelayError {
  override readonly name = "ClaimedElsewhereError";
  readonly retryable = true;
}

/** Our claim was taken over (our lease expired): stop sending at once, the new owner resumes. */
export class ClaimLostError extends LogrelayError {
  override readonly name = "ClaimLostError";
  readonly retryable = true;
}

/** Reading the object's body broke off mid-stream (connection reset, timeout): reopen and resume. */
export class InterruptedReadError extends LogrelayError {
  override readonly name = "InterruptedReadError";
  readonly retryable = true;
}

/** A message with at least one destination that failed transiently: SQS must redeliver it. */
export class TransientDeliveryError extends LogrelayError {
  override readonly name = "TransientDeliveryError";
  readonly retryable = true;
}

const DENIED_AWS_ERRORS = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "AuthorizationError",
  "KMSAccessDeniedException",
  "KMSDisabledException",
  "KMSInvalidStateException",
]);

const PERMANENT_AWS_ERRORS = new Set([
  ...DENIED_AWS_ERRORS,
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "NoSuchBucket",
  "InvalidParameterException",
  "ValidationException",
  "ValidationError",
  "MalformedPolicyDocument",
  "RegionDisabledException",
  "InvalidAccessKeyId",
  "DataAlreadyAcceptedException",
  "InvalidBucketName",
  "PermanentRedirect",
  "QueueDoesNotExist",
  "AWS.SimpleQueueService.NonExistentQueue",
]);

/**
 * Service faults named in the error body, which Smithy's classification knows only by their HTTP
 * status (and an error shaped by hand may lack one), and the timeouts it lists as transient.
 */
const SERVICE_FAULTS = new Set([
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "OperationAbortedException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);

/** Transient besides back-pressure: expired session credentials (refreshed), streams cut short. */
const OTHER_TRANSIENT = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "IDPCommunicationError",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_SOCKET",
  // A request our own signal aborted (shutdown): another attempt may run it.
  "AbortError",
]);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export type Classification = "permanent" | "transient";

function fields(error: unknown) {
  const e = (typeof error === "object" && error !== null ? error : {}) as AwsLikeError;
  const name = typeof e.name === "string" ? e.name : "";
  const code = typeof e.code === "string" ? e.code : typeof e.Code === "string" ? e.Code : "";
  const status = typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined;
  // What Smithy's classifiers read: the name, the HTTP status, the retry traits and the cause.
  const sdk = {
    ...(e as object),
    name,
    ...(status !== undefined && { $metadata: { httpStatusCode: status } }),
  };
  return { name, code, status, sdk: sdk as unknown as SdkError };
}

const named = (set: Set<string>, name: string, code: string) => set.has(name) || set.has(code);

/**
 * Decides whether retrying an error can succeed: logrelay's own errors say so themselves; AWS and
 * network errors by Smithy's classification (the SDK's own retry rules) and the lists above.
 * Unknown errors count as transient (SQS redelivers, then the DLQ).
 */
export function classify(error: unknown): Classification {
  if (error instanceof LogrelayError) return error.retryable ? "transient" : "permanent";
  if (error instanceof CustomerRoleRefusedError) return "permanent";
  if (typeof error !== "object" || error === null) return "transient";
  const { name, code, status, sdk } = fields(error);
  if (isBackpressure(error) || isTransientError(sdk) || named(OTHER_TRANSIENT, name, code))
    return "transient";
  if (named(PERMANENT_AWS_ERRORS, name, code) || status === 403) return "permanent";
  return "transient";
}

/**
 * Throttling, 5xx and timeouts: the service is there but busy. These are retried by time (for as
 * long as the invocation has), other transient errors by count (RETRY_MAX_ATTEMPTS per call).
 */
export function isBackpressure(error: unknown): boolean {
  if (error instanceof LogrelayError || typeof error !== "object" || error === null) return false;
  const { name, code, status, sdk } = fields(error);
  return (
    isThrottlingError(sdk) ||
    (status !== undefined && status >= 500) ||
    isServerError(sdk) ||
    named(SERVICE_FAULTS, name, code)
  );
}

/** An AWS refusal of our credentials' rights (role trust, policy, KMS key state). */
export function isAccessDenied(error: unknown): boolean {
  const { name, code, status } = fields(error);
  return DENIED_AWS_ERRORS.has(name) || DENIED_AWS_ERRORS.has(code) || (status === 403 && name === "");
}

/**
 * A failure whose cause is on the customer's side: their role refuses to be assumed, or their log
 * group or bucket refuses the session or is gone. Such deliveries are parked and retried once the
 * destination works again; every other permanent failure is the platform's (malformed key, invalid
 * config, unregistered account) and stays permanent.
 */
export function isCustomerSide(
  error: unknown,
): error is DestinationDeniedError | CustomerRoleRefusedError | BreakerOpenError {
  return (
    error instanceof DestinationDeniedError ||
    error instanceof CustomerRoleRefusedError ||
    error instanceof BreakerOpenError
  );
}

export { describeError };

export type FailureStatus = "failed_permanent" | "failed_transient";

/** The one mapping from an error to a delivery outcome: its status and the reason to report. */
export function outcomeOf(error: unknown): { status: FailureStatus; reason: string } {
  return {
    status: classify(error) === "permanent" ? "failed_permanent" : "failed_transient",
    reason: describeError(error),
  };
}
