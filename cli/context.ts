import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { STSClient } from "@aws-sdk/client-sts";
import { Option } from "commander";
import { stringify as stringifyYaml } from "yaml";
import { TenantIdSchema } from "../functions/shared/delivery-config";
import { SettingsError } from "../functions/shared/settings";
import { isoTimeMs } from "../functions/shared/timestamps";
import { type Environment, EnvironmentError, loadEnvironmentFile } from "../stacks/config";
import { CliError, type CliIo } from "./io";

/**
 * What every command shares: the output option, the AWS region, settings errors as usage errors.
 * One place, so commands cannot drift apart.
 */

export type OutputFormat = "table" | "json" | "yaml";

/** `-o, --output table|json|yaml`: commander refuses other values (exit 2) and lists the choices. */
export function outputOption(): Option {
  return new Option("-o, --output <format>", "output format")
    .choices(["table", "json", "yaml"])
    .default("table");
}

const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Keys in snake_case, deeply (JSON and YAML output match the logs and the API). */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeCase(k), snakeKeys(v)]));
  return value;
}

/**
 * Prints a command's result as JSON or YAML, keys in snake_case, one object for one item. Table
 * output stays with each command.
 */
export function structured(format: Exclude<OutputFormat, "table">, value: unknown): string {
  const v = snakeKeys(value);
  return format === "yaml" ? stringifyYaml(v) : `${JSON.stringify(v, null, 2)}\n`;
}

/**
 * The AWS region as the SDK finds it: AWS_REGION, else the region of the profile (AWS_PROFILE) in
 * the shared config files. A usage error (exit 2) when there is none.
 */
export async function awsRegion(io: CliIo): Promise<string> {
  const fromEnv = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  try {
    const client = new STSClient({ ...(io.env.AWS_PROFILE && { profile: io.env.AWS_PROFILE }) });
    const region = await client.config.region();
    if (region) return region;
  } catch {
    // no region in the provider chain: said below
  }
  throw new CliError(
    "no AWS region: set AWS_REGION, or a region in your AWS profile (AWS_PROFILE, ~/.aws/config)",
    2,
  );
}

/** Loads settings; a missing or invalid setting is a usage error naming it (exit 2). */
export function settingsOrUsage<T>(load: () => T, hint = ""): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof SettingsError) throw new CliError(`${hint}${error.message}`, 2);
    throw error;
  }
}

/**
 * The AWS SDK warns on every run under Node 20 that its releases after early January 2027 need
 * Node 22. The SDK is pinned here (package.json), so the notice says nothing about this run: local
 * commands (CLI, npm start) leave it out. The Lambda functions run on nodejs22.x; bump Node to 22
 * before the SDK (README, Quick start).
 */
export function quietSdkNodeNotice(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

const RELATIVE_TIME = /^(\d{1,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A time option: ISO-8601 as every time logrelay reads (a date, or a date and time; without a zone
 * it is UTC) or a duration before now (`90s`, `15m`, `1h`, `7d`). Anything else, e.g. `5` or
 * `yesterday`, is a usage error naming the option and the accepted forms.
 */
export function parseTime(text: string, option: string, now: number = Date.now()): number {
  const relative = RELATIVE_TIME.exec(text);
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  const at = isoTimeMs(text);
  if (at === undefined)
    throw new CliError(
      `${option} ${JSON.stringify(text)} is not a time: use ISO-8601 (2026-11-20, 2026-11-20T08:00:00Z; without a zone it is UTC) or a duration ago (15m, 1h, 7d)`,
      2,
    );
  return at;
}

/**
 * A numeric option: a whole number (unless `integer: false`) within [min, max], else a usage
 * error `<option> must be <says>, got <text>` (`says` defaults to `min-max`).
 */
export function numberOption(
  text: string,
  option: string,
  limits: { min: number; max?: number; integer?: boolean; says?: string },
): number {
  const { min, max = Number.POSITIVE_INFINITY, integer = true } = limits;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max)
    throw new CliError(`${option} must be ${limits.says ?? `${min}-${max}`}, got ${text}`, 2);
  return n;
}

/** A `--tenant` value: a tenant id (DNS label), else a usage error naming it and the rule. */
export function tenantOption(value: string): string {
  const parsed = TenantIdSchema.safeParse(value);
  if (!parsed.success)
    throw new CliError(
      `--tenant ${JSON.stringify(value)} is not a tenant id: ${parsed.error.issues[0]?.message}`,
      2,
    );
  return parsed.data;
}

/**
 * `--environment <name>`: environments/<name>.json under the working directory (or the file, when
 * the value is a path ending in .json), validated. A missing or invalid file is a usage error
 * naming it (exit 2).
 */
export function environmentOption(name: string, cwd: string = process.cwd()): Environment {
  const path = name.endsWith(".json") ? resolve(cwd, name) : join(cwd, "environments", `${name}.json`);
  if (!existsSync(path)) throw new CliError(`--environment ${name}: no ${path}`, 2);
  try {
    return loadEnvironmentFile(path);
  } catch (error) {
    if (error instanceof EnvironmentError) throw new CliError(error.message, 2);
    throw error;
  }
}
