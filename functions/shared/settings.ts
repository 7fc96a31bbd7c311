import * as z from "zod";
import { RegionSchema, RoleArnSchema } from "./delivery-config";

/** A missing or invalid setting: the message names every bad variable. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

/** Field rules shared by every function's settings. */
export const setting = {
  int: (min: number, max: number, fallback: number) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  name: z.string().trim().min(3).max(255),
  region: RegionSchema,
  roleArn: RoleArnSchema,
};

/**
 * Reads a function's settings from the environment with its schema; empty variables count as
 * unset. Throws one SettingsError naming every bad variable (`what`: whose settings they are).
 */
export function loadSettingsWith<S extends z.ZodObject>(
  schema: S,
  what: string,
  env: NodeJS.ProcessEnv,
): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const variable = String(i.path[0]);
    return env[variable] === undefined || env[variable] === ""
      ? `${variable} is required`
      : `${variable}=${JSON.stringify(env[variable])}: ${i.message}`;
  });
  throw new SettingsError(`invalid ${what} settings: ${problems.join("; ")}`);
}
