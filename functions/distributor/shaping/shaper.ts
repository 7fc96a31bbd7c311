import { createHash } from "node:crypto";
import type { Filter, FilterRule, Redaction } from "../../shared/event-rules";
import type { LogEvent } from "../reading/log-records";
import { textMatcher } from "./matchers";
import { type RedactionCounts, redactionRules, redactRecord, redactText } from "./redaction";

/** What a config's rules did to the events of one read: filtered by reason, redactions by rule. */
export interface ShapingCounts {
  /** `include` (matched no include rule) or `exclude.<n>` (the first exclude rule it matched). */
  readonly filtered: Record<string, number>;
  readonly redactions: RedactionCounts;
}

export const newShapingCounts = (): ShapingCounts => ({ filtered: {}, redactions: {} });

/** The rules of a config that has any. */
export interface EventRules {
  readonly filter?: Filter | undefined;
  readonly redact?: readonly Redaction[] | undefined;
}

interface CompiledRule {
  /** Keys after `message` for a `message.<key>` rule; the record's path otherwise. */
  readonly path: readonly string[];
  readonly inMessage: boolean;
  matches(value: string): boolean;
}

function compile(rule: FilterRule): CompiledRule {
  const [first, ...rest] = rule.field.split(".");
  const inMessage = first === "message";
  const values = rule.in && new Set(rule.in);
  const matcher = rule.regex === undefined ? undefined : textMatcher(rule.regex);
  return {
    path: inMessage ? rest : [first!, ...rest],
    inMessage,
    matches: (value) => (values ? values.has(value) : matcher!.test(value)),
  };
}

/** A scalar as the rules read it; objects, arrays, null and missing fields match nothing. */
function scalar(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function walk(from: unknown, path: readonly string[]): unknown {
  let at = from;
  for (const key of path) {
    if (typeof at !== "object" || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** The message as a JSON object, when it is one (a structured application log); else undefined. */
function messageObject(message: string): unknown {
  if (message.trimStart()[0] !== "{") return undefined;
  try {
    return JSON.parse(message);
  } catch {
    // Not JSON, or nested deeper than the parser's stack: no key of it can match.
    return undefined;
  }
}

/** Whether `rule` matches `event`; `parsed` caches the message's JSON across the rules of one event. */
function matches(
  rule: CompiledRule,
  event: LogEvent,
  parsed: { done: boolean; value: unknown } | undefined,
): boolean {
  let value: string | undefined;
  if (!rule.inMessage) value = scalar(walk(event.record, rule.path));
  else if (rule.path.length === 0) value = event.message;
  else {
    if (parsed && !parsed.done) {
      parsed.value = messageObject(event.message);
      parsed.done = true;
    }
    value = scalar(walk(parsed?.value, rule.path));
  }
  return value !== undefined && rule.matches(value);
}

const compiled = new WeakMap<EventRules, Shaper>();

/**
 * A config's filter and redaction, compiled once per config: which events go, and what is masked
 * in what goes. Filters read the staged record and the message; redaction masks the message (for
 * CloudWatch) or every string of the record (for destinations that receive records).
 */
export class Shaper {
  /** Changes whenever the rules do: part of the checkpoint's batching version. */
  readonly fingerprint: string;
  /** Some rule reads a field of the staged record (not the message): the reader must keep records. */
  readonly needsRecords: boolean;
  private readonly include: CompiledRule[];
  private readonly exclude: CompiledRule[];
  private readonly redactions: ReturnType<typeof redactionRules>;
  private readonly readsMessageObject: boolean;

  private constructor(rules: EventRules) {
    this.include = (rules.filter?.include ?? []).map(compile);
    this.exclude = (rules.filter?.exclude ?? []).map(compile);
    this.redactions = redactionRules(rules.redact ?? []);
    const all = [...this.include, ...this.exclude];
    this.needsRecords = all.some((r) => !r.inMessage);
    this.readsMessageObject = all.some((r) => r.inMessage && r.path.length > 0);
    this.fingerprint = createHash("sha256")
      .update(JSON.stringify([rules.filter ?? null, rules.redact ?? null]))
      .digest("hex")
      .slice(0, 12);
  }

  /** The shaper of a config's rules; undefined when it has none (events go as they are). */
  static of(rules: EventRules): Shaper | undefined {
    const filters = (rules.filter?.include.length ?? 0) + (rules.filter?.exclude.length ?? 0);
    if (filters + (rules.redact?.length ?? 0) === 0) return undefined;
    // A config's rules are compiled once while the config is cached, not once per object.
    let shaper = compiled.get(rules);
    if (!shaper) {
      shaper = new Shaper(rules);
      compiled.set(rules, shaper);
    }
    return shaper;
  }

  /** Why `event` does not go (`include`, `exclude.<n>`), or undefined when it goes. */
  verdict(event: LogEvent): string | undefined {
    // The message read as JSON once per event, and only when a rule asks for one of its keys.
    const parsed = this.readsMessageObject ? { done: false, value: undefined as unknown } : undefined;
    if (this.include.length > 0) {
      let included = false;
      for (const rule of this.include)
        if (matches(rule, event, parsed)) {
          included = true;
          break;
        }
      if (!included) return "include";
    }
    for (let i = 0; i < this.exclude.length; i++)
      if (matches(this.exclude[i]!, event, parsed)) return `exclude.${i}`;
    return undefined;
  }

  redactMessage(message: string, counts: RedactionCounts): string {
    return this.redactions.length === 0 ? message : redactText(message, this.redactions, counts);
  }

  /** Masks every string of `record` in place. */
  redactRecord(record: Record<string, unknown>, counts: RedactionCounts): void {
    if (this.redactions.length > 0) redactRecord(record, this.redactions, counts);
  }
}
