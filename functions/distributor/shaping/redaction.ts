import { isIPv6 } from "node:net";
import type { BuiltinRedaction, Redaction } from "../../shared/event-rules";
import { textMatcher } from "./matchers";

/** Redactions made, by rule name. */
export type RedactionCounts = Record<string, number>;

/** One rule: masks what it matches in a string and counts it. */
interface RedactionRule {
  readonly name: string;
  apply(text: string, counts: RedactionCounts): string;
}

const add = (counts: RedactionCounts, name: string, n: number) => {
  counts[name] = (counts[name] ?? 0) + n;
};

/** Whether `digits` passes the Luhn check every payment card number does. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * A built-in rule: `pattern` finds candidates (bounded quantifiers only, so V8 runs it in linear
 * time); `accept`, when given, confirms one (it may look at the characters around it, which is
 * cheaper than a lookbehind tried at every position) and returns the text at its end to keep
 * unmasked. A string `hint` rejects cannot hold a match and is not searched.
 */
function builtin(
  name: BuiltinRedaction,
  pattern: RegExp,
  options: {
    readonly hint?: (text: string) => boolean;
    readonly accept?: (match: string, text: string, offset: number) => string | undefined;
  } = {},
): RedactionRule {
  const replacement = `[REDACTED:${name}]`;
  const { hint, accept } = options;
  return {
    name,
    apply(text, counts) {
      if (hint !== undefined && !hint(text)) return text;
      let n = 0;
      const out = text.replace(pattern, (match: string, offset: number, whole: string) => {
        const keep = accept ? accept(match, whole, offset) : "";
        if (keep === undefined) return match;
        n++;
        return replacement + keep;
      });
      if (n > 0) add(counts, name, n);
      return out;
    },
  };
}

/** Whether the character before `offset` is one of `chars` (false at the start). */
const preceded = (text: string, offset: number, chars: RegExp) => offset > 0 && chars.test(text[offset - 1]!);
const DIGIT_OR_DOT = /[\d.]/;

/** Prefixes of the card networks' numbers (Visa, Mastercard, Amex, Diners, Discover, JCB). */
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|35|6(?:011|5|4[4-9]))/;

/**
 * Whether `text` holds `char` at least `n` times: an IPv4 address has three dots, an IPv6 address
 * without "::" six colons (an ISO time has one dot and two colons).
 */
function countAtLeast(text: string, char: string, n: number): boolean {
  let seen = 0;
  for (let i = text.indexOf(char); i >= 0; i = text.indexOf(char, i + 1)) if (++seen >= n) return true;
  return false;
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";

/** What each built-in rule matches (docs/customer-choice.md says the same in words). */
const BUILTINS: Record<BuiltinRedaction, RedactionRule> = {
  // local@domain.tld: the usual address characters, a dotted domain, a 2-24 letter TLD.
  email: builtin("email", /[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b/g, {
    hint: (text) => text.includes("@"),
  }),
  // Four decimal octets 0-255, not inside a longer run of digits and dots (a version string).
  ipv4: builtin("ipv4", new RegExp(`${OCTET}(?:\\.${OCTET}){3}(?!\\d|\\.\\d)`, "g"), {
    hint: (text) => countAtLeast(text, ".", 3),
    accept: (_match, text, offset) => (preceded(text, offset, DIGIT_OR_DOT) ? undefined : ""),
  }),
  // Hex groups and colons (an embedded IPv4 allowed) standing alone, confirmed by node's parser;
  // a trailing dot (end of a sentence) stays. Only text with "::" or six hex groups can hold one.
  ipv6: builtin("ipv6", /(?<![\w:.])[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}(?![\w:])/g, {
    hint: (text) => text.includes("::") || countAtLeast(text, ":", 6),
    accept: (match) => {
      const address = match.replace(/\.+$/, "");
      if (address.split(":").length < 3 || !/[0-9A-Fa-f]/.test(address) || !isIPv6(address)) return undefined;
      return match.slice(address.length);
    },
  }),
  // AWS access key ids: a known 4-letter prefix and 16 upper-case letters or digits.
  aws_access_key: builtin(
    "aws_access_key",
    /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b/g,
  ),
  // 13 to 19 digits, optionally grouped by single spaces or dashes, with a card network's prefix
  // and a valid Luhn check digit (an epoch in milliseconds has 13 digits, no card prefix).
  credit_card: builtin("credit_card", /(?<![\d-])\d(?:[ -]?\d){12,18}(?!\d)/g, {
    accept: (match) => {
      const digits = match.replace(/[ -]/g, "");
      return CARD_PREFIX.test(digits) && luhnValid(digits) ? "" : undefined;
    },
  }),
  // The token after "Bearer " (any case) in an Authorization header or a log line: the word stays.
  bearer_token: {
    name: "bearer_token",
    apply(text, counts) {
      if (!/bearer/i.test(text)) return text;
      let n = 0;
      const out = text.replace(/\b(bearer[ \t]{1,8})[A-Za-z0-9\-._~+/]{8,4096}=*/gi, (_m, word: string) => {
        n++;
        return `${word}[REDACTED:bearer_token]`;
      });
      if (n > 0) add(counts, "bearer_token", n);
      return out;
    },
  },
};

/** The rules a config lists, in its order (a custom rule's matches become its `replace_with`). */
export function redactionRules(list: readonly Redaction[]): RedactionRule[] {
  return list.map((r) => {
    if (typeof r === "string") return BUILTINS[r];
    const matcher = textMatcher(r.regex);
    const replacement = r.replace_with ?? `[REDACTED:${r.name}]`;
    return {
      name: r.name,
      apply: (text, counts) => matcher.replace(text, replacement, (n) => add(counts, r.name, n)),
    };
  });
}

/** Applies `rules` to one string, in order. */
export function redactText(text: string, rules: readonly RedactionRule[], counts: RedactionCounts): string {
  let out = text;
  for (const rule of rules) out = rule.apply(out, counts);
  return out;
}

/**
 * Redacts every string value of a record in place (keys stay), walking without recursion: a
 * record is as deep as its line allows, far deeper than a stack.
 */
export function redactRecord(
  record: Record<string, unknown>,
  rules: readonly RedactionRule[],
  counts: RedactionCounts,
): void {
  const stack: (Record<string, unknown> | unknown[])[] = [record];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const holder = node as Record<string, unknown>;
    for (const k of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      const v = holder[k as string];
      if (typeof v === "string") holder[k as string] = redactText(v, rules, counts);
      else if (typeof v === "object" && v !== null) stack.push(v as Record<string, unknown>);
    }
  }
}
