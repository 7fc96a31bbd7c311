import { RE2JS } from "re2js";
import * as z from "zod";

/**
 * What a delivery config may say about its events before any byte leaves the platform: which go
 * (`filter`) and what is masked in them (`redact`). The one schema for the API, the CLI and the
 * distributor. Customer expressions are RE2 (linear time: no backreferences, no lookaround), so no
 * pattern can stall a delivery, whatever the lines it reads.
 */

/** Bounds on what one config may ask for: each rule costs time on every event. */
export const EVENT_RULE_LIMITS = {
  /** Rules per list (`filter.include`, `filter.exclude`, `redact`). */
  rules: 20,
  /** Characters of one expression. */
  regexChars: 512,
  /** Values of one `in` rule, and characters of each. */
  inValues: 100,
  inValueChars: 256,
  /** Keys of a dotted field path. */
  fieldDepth: 8,
  /** Characters of a custom rule's replacement. */
  replacementChars: 128,
} as const;

/** The built-in redaction rules (what each matches: docs/customer-choice.md). */
export const BUILTIN_REDACTIONS = [
  "email",
  "ipv4",
  "ipv6",
  "aws_access_key",
  "credit_card",
  "bearer_token",
] as const;
export type BuiltinRedaction = (typeof BUILTIN_REDACTIONS)[number];

/** What an RE2 expression's compiler says is wrong with it, or undefined when it compiles. */
export function re2Problem(expression: string): string | undefined {
  try {
    RE2JS.compile(expression);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const RegexSchema = z
  .string()
  .min(1)
  .max(EVENT_RULE_LIMITS.regexChars)
  .superRefine((expression, ctx) => {
    const problem = re2Problem(expression);
    if (problem !== undefined)
      ctx.addIssue({
        code: "custom",
        message: `not an RE2 expression (linear time: no backreferences or lookaround): ${problem}`,
      });
  });

const FIELD_PATTERN = new RegExp(
  `^[\\w@/-]{1,128}(?:\\.[\\w@/-]{1,128}){0,${EVENT_RULE_LIMITS.fieldDepth - 1}}$`,
);

/**
 * One filter rule: `field` is a dotted path into the staged record (`kubernetes.pod_namespace`),
 * `message` the event's message, `message.<key>` a key of a message that is a JSON object. It
 * matches when the field's value (a string, number or boolean) matches `regex` anywhere, or equals
 * one of `in`.
 */
export const FilterRuleSchema = z
  .object({
    field: z
      .string()
      .regex(
        FIELD_PATTERN,
        `field must be a dotted path of at most ${EVENT_RULE_LIMITS.fieldDepth} keys of letters, digits and _@/-`,
      ),
    regex: RegexSchema.optional(),
    in: z
      .array(z.string().max(EVENT_RULE_LIMITS.inValueChars))
      .min(1)
      .max(EVENT_RULE_LIMITS.inValues)
      .optional(),
  })
  .strict()
  .refine((r) => (r.regex === undefined) !== (r.in === undefined), "a filter rule has either regex or in");
export type FilterRule = z.infer<typeof FilterRuleSchema>;

const ruleList = <T extends z.ZodType>(rule: T) => z.array(rule).max(EVENT_RULE_LIMITS.rules);

/** With `include`, only events matching one of its rules go; an event matching any `exclude` rule never goes. */
export const FilterSchema = z
  .object({
    include: ruleList(FilterRuleSchema).default([]),
    exclude: ruleList(FilterRuleSchema).default([]),
  })
  .strict();
export type Filter = z.infer<typeof FilterSchema>;

/** A custom redaction: matches of `regex` become `replace_with` (default `[REDACTED:<name>]`). */
export const CustomRedactionSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,31}$/, "name must be 1-32 characters: a-z first, then a-z, 0-9, _")
      .refine((n) => !(BUILTIN_REDACTIONS as readonly string[]).includes(n), "name is a built-in rule's"),
    regex: RegexSchema.refine(
      (expression) => re2Problem(expression) !== undefined || !RE2JS.matches(expression, ""),
      "a redaction's regex must not match the empty string",
    ),
    replace_with: z.string().max(EVENT_RULE_LIMITS.replacementChars).optional(),
  })
  .strict();
export type CustomRedaction = z.infer<typeof CustomRedactionSchema>;

const BuiltinRedactionSchema = z.enum(BUILTIN_REDACTIONS, {
  message: `a built-in rule (${BUILTIN_REDACTIONS.join(", ")}) or {name, regex, replace_with}`,
});
export type Redaction = BuiltinRedaction | CustomRedaction;

/** A built-in rule's name, or a custom rule; each mistake is reported by the schema of its kind. */
export const RedactionSchema = z.unknown().transform((value, ctx): Redaction => {
  const parsed =
    typeof value === "string"
      ? BuiltinRedactionSchema.safeParse(value)
      : CustomRedactionSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ code: "custom", message: issue.message, path: issue.path as PropertyKey[] });
  return z.NEVER;
});

export const redactionName = (r: Redaction): string => (typeof r === "string" ? r : r.name);

export const RedactListSchema = ruleList(RedactionSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    const name = redactionName(r);
    if (seen.has(name)) ctx.addIssue({ code: "custom", message: `${name} is listed twice`, path: [i] });
    seen.add(name);
  });
});
