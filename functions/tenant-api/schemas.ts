import * as z from "zod";
import { applicationsOfGroup, KNOWN_GROUP_NAMES } from "../shared/application-groups";
import {
  CloudWatchConfigSchema,
  FirehoseConfigSchema,
  refineConfig,
  S3ConfigSchema,
  TenantIdSchema,
} from "../shared/delivery-config";
import { KNOWN_REGIONS } from "../shared/regions";
import { badRequest } from "./errors";

/**
 * What the API accepts: the shared delivery-config schema, strict (unknown fields are typos),
 * without the fields the server owns (timestamps, version), and with stricter checks than the
 * distributor needs to read (known regions, known group names).
 */
const serverOwned = { created_at: true, updated_at: true, version: true } as const;
const knownRegion = z
  .string()
  .refine(
    (r) => KNOWN_REGIONS.includes(r),
    `must be a known AWS region (${KNOWN_REGIONS.slice(0, 4).join(", ")}, ...)`,
  );
const knownGroups = z
  .array(z.string())
  .refine(
    (gs) => gs.every((g) => applicationsOfGroup(g)),
    `groups must be among: ${KNOWN_GROUP_NAMES.join(", ")}`,
  );
const apiFields = {
  tenant_id: TenantIdSchema.optional(),
  target_region: knownRegion.optional(),
  groups: knownGroups.default([]),
};

export const WritableConfigSchema = z
  .discriminatedUnion("type", [
    CloudWatchConfigSchema.omit(serverOwned).extend(apiFields).strict(),
    S3ConfigSchema.omit(serverOwned).extend(apiFields).strict(),
    FirehoseConfigSchema.omit(serverOwned).extend(apiFields).strict(),
  ])
  .superRefine(refineConfig);
export type WritableConfig = z.infer<typeof WritableConfigSchema>;

export const VersionSchema = z
  .number({ error: "version is required: send the version you read" })
  .int()
  .nonnegative();

/** Field path -> messages, for a 400 body. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  const add = (key: string, message: string) => {
    fields[key] = [...(fields[key] ?? []), message];
  };
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.join(".") : "(body)";
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) add(k, "unknown field");
      continue;
    }
    add(key, issue.message);
  }
  return fields;
}

export function parseWritable(body: unknown): WritableConfig {
  const parsed = WritableConfigSchema.safeParse(body);
  if (!parsed.success) throw badRequest("the delivery config is invalid", fieldErrors(parsed.error));
  return parsed.data;
}
