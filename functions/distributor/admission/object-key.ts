import {
  KEY_FILE_PATTERN,
  KEY_SEGMENT_PATTERN,
  PIPELINE_PREFIXES,
  TENANT_ID_PATTERN,
} from "../../shared/patterns";
import { MalformedKeyError } from "../errors";

/**
 * A staged object key: `{tenant_id}/{cluster_id}/{application}/{pod_name}/{file}`.
 * Segment rules live in functions/shared/patterns.ts.
 */
export interface LogObjectKey {
  readonly tenantId: string;
  readonly clusterId: string;
  readonly application: string;
  readonly podName: string;
  readonly file: string;
}

const SEGMENTS: readonly [keyof LogObjectKey, RegExp][] = [
  ["tenantId", TENANT_ID_PATTERN],
  ["clusterId", KEY_SEGMENT_PATTERN],
  ["application", KEY_SEGMENT_PATTERN],
  ["podName", KEY_SEGMENT_PATTERN],
  ["file", KEY_FILE_PATTERN],
];

export const MAX_KEY_LENGTH = 1024;

/** Parses and validates a decoded key; throws MalformedKeyError naming the bad segment. */
export function parseObjectKey(key: string): LogObjectKey {
  if (key.length === 0) throw new MalformedKeyError(key, "key is empty");
  if (key.length > MAX_KEY_LENGTH)
    throw new MalformedKeyError(key.slice(0, 64), `key is over ${MAX_KEY_LENGTH} characters`);
  for (const [prefix, what] of Object.entries(PIPELINE_PREFIXES)) {
    if (key.startsWith(prefix)) throw new MalformedKeyError(key, `not tenant data: ${what}`);
  }
  const parts = key.split("/");
  if (parts.length !== SEGMENTS.length) {
    throw new MalformedKeyError(
      key,
      `expected 5 segments tenant_id/cluster_id/application/pod_name/file, got ${parts.length}`,
    );
  }
  const parsed: Record<string, string> = {};
  SEGMENTS.forEach(([field, pattern], i) => {
    const value = parts[i]!;
    if (!pattern.test(value)) {
      throw new MalformedKeyError(key, `segment ${field} ${JSON.stringify(value)} does not match ${pattern}`);
    }
    parsed[field] = value;
  });
  return parsed as unknown as LogObjectKey;
}

/** S3 event keys are form-encoded ('+' for space, even '/' may be %2F): decode exactly once. */
export function decodeEventKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, " "));
  } catch {
    throw new MalformedKeyError(encoded, "key is not valid URL encoding");
  }
}
