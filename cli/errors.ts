import { describeError } from "../functions/shared/errors";

/**
 * One line for an error no command turned into a CliError: what went wrong, the value involved,
 * and what to do. Never a stack trace (LOGRELAY_DEBUG=1 prints it).
 */
export function explain(error: unknown): string {
  const e = (error ?? {}) as {
    name?: string;
    message?: string;
    code?: string;
    input?: unknown;
    address?: string;
    port?: number;
    path?: string;
    syscall?: string;
    cause?: unknown;
    $metadata?: unknown;
    BucketName?: string;
  };
  const name = e.name ?? "Error";
  if (name === "TypeError" && e.code === "ERR_INVALID_URL")
    return `${JSON.stringify(String(e.input))} is not a URL: pass a full one, e.g. https://abc123.execute-api.us-east-1.amazonaws.com/prod`;
  if (name === "TypeError" && e.message === "fetch failed" && e.cause) return unreachable(e.cause);
  if (
    e.code &&
    /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN)$/.test(e.code)
  )
    return unreachable(error);
  if (e.code && e.path && /^(EACCES|EPERM|EROFS|ENOENT|ENOTDIR|EISDIR|ENOSPC)$/.test(e.code))
    return `cannot ${e.syscall ?? "write"} ${e.path} (${e.code}): choose a place you may write to`;
  if (name === "CredentialsProviderError")
    return "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where a role provides them";
  if (e.$metadata) return awsHint(name, e.message ?? "", e.BucketName);
  return `${describeError(error).split("\n")[0]} (LOGRELAY_DEBUG=1 shows where)`;
}

function unreachable(cause: unknown): string {
  const c = cause as { code?: string; address?: string; port?: number; hostname?: string; message?: string };
  const where = c.address ? `${c.address}${c.port ? `:${c.port}` : ""}` : (c.hostname ?? "the endpoint");
  return (
    `cannot reach ${where} (${c.code ?? c.message}): check the URL options (--api-url, --queue-url, --dlq-url) ` +
    "and AWS_ENDPOINT_URL, and that the service is running"
  );
}

const AWS_HINTS: Record<string, string> = {
  NoSuchBucket: "the bucket does not exist (or is in another region): check --bucket and AWS_REGION",
  NoSuchKey: "the object does not exist: check --key",
  QueueDoesNotExist: "the queue does not exist: check the queue URL option and AWS_REGION",
  "AWS.SimpleQueueService.NonExistentQueue":
    "the queue does not exist: check the queue URL option and AWS_REGION",
  ResourceNotFoundException:
    "the table or stream does not exist: check the names in your settings and AWS_REGION",
  AccessDenied: "your AWS credentials may not do this: check the role or profile you use",
  AccessDeniedException: "your AWS credentials may not do this: check the role or profile you use",
  ExpiredToken: "your AWS session expired: refresh your credentials",
  ExpiredTokenException: "your AWS session expired: refresh your credentials",
  InvalidClientTokenId: "your AWS credentials are not valid here: check AWS_PROFILE or the access key",
  UnrecognizedClientException: "your AWS credentials are not valid here: check AWS_PROFILE or the access key",
};

function awsHint(name: string, message: string, bucket?: string): string {
  const hint = AWS_HINTS[name];
  const what = bucket ? `${name} (${bucket})` : name;
  const detail =
    message && message !== name && message !== "UnknownError" ? `: ${message.split("\n")[0]}` : "";
  return hint ? `${what}${detail}; ${hint}` : `${what}${detail}`;
}
