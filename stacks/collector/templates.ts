import { readFileSync } from "node:fs";
import { join } from "node:path";
import { QUARANTINE_PREFIX } from "../../functions/shared/patterns";

/** Where the collector's chart defaults, VRL programs and values schema live. */
export const CHART_DIR = join(__dirname, "..", "..", "charts", "vector");

/** The collector's VRL program, as Vector loads it (before ${VAR} interpolation). */
export const collectorProgram = (): string => readFileSync(join(CHART_DIR, "vrl", "logrelay.vrl"), "utf8");

/** The heartbeat's VRL program: a heartbeat line as a staged record of the heartbeat tenant. */
export const heartbeatProgram = (): string => readFileSync(join(CHART_DIR, "vrl", "heartbeat.vrl"), "utf8");

/** The multi-line merge's `starts_when` condition: does this line start a new event? */
export const multilineStartCondition = (): string =>
  readFileSync(join(CHART_DIR, "vrl", "multiline-start.vrl"), "utf8");

/**
 * How the `multiline` reduce transform merges a container's lines (Vector 0.56 `reduce`):
 * consecutive events of one file and stream, a new one started where the condition says so, the
 * messages joined by newlines; at most `maxEvents` lines, flushed `expireAfterMs` after the last.
 */
export const MULTILINE = {
  groupBy: ["file", "stream"],
  maxEvents: 500,
  expireAfterMs: 2_000,
  flushPeriodMs: 500,
} as const;

/** Staged object keys: the layout the distributor parses (functions/distributor/admission/object-key.ts). */
export const KEY_PREFIX_TEMPLATE = "{{ tenant_id }}/{{ cluster_id }}/{{ application }}/{{ pod_name }}/";
/** Staged objects end in .log.gz: the S3 notification filter is the .gz suffix. */
export const STAGED_EXTENSION = "log.gz";
/** Quarantined events: no tenant in the key, and no .gz suffix, so no S3 notification fires. */
export const QUARANTINE_PREFIX_TEMPLATE = `${QUARANTINE_PREFIX}{{ cluster_id }}/{{ logrelay_quarantine_reason }}/`;
export const QUARANTINE_EXTENSION = "quarantine";

/**
 * Vector's own ${VAR} / $VAR interpolation of config text ($$ is a literal $), so tests run the
 * program exactly as the agent compiles it. Unset variables are an error here (Vector would
 * substitute an empty string and warn).
 */
export function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (match, braced?: string, bare?: string) => {
    if (match === "$$") return "$";
    const name = (braced ?? bare)!;
    const value = env[name];
    if (value === undefined)
      throw new Error(`the VRL program uses $${name}, which the agent's environment does not set`);
    return value;
  });
}

/** Renders a Vector template ("{{ field }}") against an event; a missing field fails like Vector does. */
export function renderTemplate(template: string, event: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_m, field: string) => {
    const value = event[field];
    if (typeof value !== "string" || value === "") throw new Error(`template field ${field} is missing`);
    return value;
  });
}

/** Helm renders customConfig with `tpl`: Vector's {{ }} must reach Vector unevaluated. */
export const helmEscape = (text: string): string =>
  text.includes("{{") ? `{{ print ${JSON.stringify(text)} }}` : text;

/**
 * The fields of a staged record, as the collector's VRL program writes them (its tests check
 * every output against this list). The Firehose Parquet option uses them as the Glue table.
 */
export const STAGED_RECORD_COLUMNS = [
  { name: "message", comment: "the original log line" },
  { name: "timestamp", comment: "event time, RFC 3339" },
  { name: "level", comment: "lower-case severity, when the line has one" },
  { name: "tenant_id", comment: "from the namespace label" },
  { name: "cluster_id", comment: "the collecting cluster" },
  { name: "application", comment: "pod label app.kubernetes.io/name or app, else the container" },
  { name: "pod_name", comment: "" },
  { name: "namespace", comment: "" },
  { name: "container", comment: "" },
  { name: "stream", comment: "stdout or stderr" },
] as const;

/**
 * The Vector the collector runs and the VRL it compiles the programs with: chart 0.57.0 has
 * appVersion 0.56.0, and Vector 0.56.0 builds with the vrl crate 0.33.1 and its whole standard
 * library (Vector's `base` feature enables `vrl/stdlib`). The tests compile the programs with
 * @bpinternal/verel, which embeds vrl 0.25.0.
 */
export const PINNED_VECTOR = {
  chartVersion: "0.57.0",
  vectorVersion: "0.56.0",
  vrlVersion: "0.33.1",
  testCompilerVrlVersion: "0.25.0",
} as const;

/**
 * Every VRL function the collector's programs call (logrelay.vrl, multiline-start.vrl), each
 * checked present in the standard library of both VRL versions above (src/stdlib of the vrl
 * repository at tags v0.33.1 and v0.25.0). A program that calls anything else fails its test
 * until the function is checked and added here.
 */
export const VRL_FUNCTIONS_USED = [
  "downcase",
  "encode_json",
  "format_timestamp",
  "from_unix_timestamp",
  "get",
  "is_float",
  "is_integer",
  "is_object",
  "is_string",
  "is_timestamp",
  "match",
  "now",
  "object",
  "parse_json",
  "parse_regex",
  "parse_timestamp",
  "replace",
  "string",
  "timestamp",
  "to_float",
  "to_int",
  "to_string",
  "to_unix_timestamp",
] as const;
