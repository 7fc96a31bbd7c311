import {
  luhnValid,
  type RedactionCounts,
  redactionRules,
  redactRecord,
  redactText,
} from "../../../../../functions/distributor/shaping/redaction";
import type { Redaction } from "../../../../../functions/shared/event-rules";

function redact(rule: Redaction, text: string): { out: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  return { out: redactText(text, redactionRules([rule]), counts), counts };
}

describe("built-in redaction rules: what each masks, and the near misses it leaves", () => {
  it.each<[Redaction, string, string]>([
    ["email", "mail jane.doe+ops@example.co.uk now", "mail [REDACTED:email] now"],
    ["email", "from A_B%c@mail-1.example.com.", "from [REDACTED:email]."],
    ["ipv4", "client 10.0.12.7 connected", "client [REDACTED:ipv4] connected"],
    ["ipv4", "255.255.255.255:443 and 0.0.0.0", "[REDACTED:ipv4]:443 and [REDACTED:ipv4]"],
    ["ipv6", "peer 2001:db8::8a2e:370:7334 up", "peer [REDACTED:ipv6] up"],
    ["ipv6", "[fe80::1]:8080 and ::ffff:192.0.2.1.", "[[REDACTED:ipv6]]:8080 and [REDACTED:ipv6]."],
    ["aws_access_key", "key=AKIAIOSFODNN7EXAMPLE;", "key=[REDACTED:aws_access_key];"],
    ["aws_access_key", "ASIAY34FZKBOKMUTVV7A temporary", "[REDACTED:aws_access_key] temporary"],
    ["credit_card", "card 4111 1111 1111 1111 ok", "card [REDACTED:credit_card] ok"],
    ["credit_card", "4111-1111-1111-1111/5500005555555559", "[REDACTED:credit_card]/[REDACTED:credit_card]"],
    ["credit_card", "amex 378282246310005", "amex [REDACTED:credit_card]"],
    [
      "bearer_token",
      "Authorization: Bearer eyJhbGciOi.J9.abc-_x=",
      "Authorization: Bearer [REDACTED:bearer_token]",
    ],
    [
      "bearer_token",
      "authorization: bearer abcdefgh12345678",
      "authorization: bearer [REDACTED:bearer_token]",
    ],
  ])("%s masks %j", (rule, text, expected) => {
    const { out, counts } = redact(rule, text);
    expect(out).toBe(expected);
    expect(counts[rule as string]).toBe(expected.split(`[REDACTED:${rule}]`).length - 1);
  });

  it.each<[Redaction, string]>([
    ["email", "user@localhost and a@b and version@2"],
    ["ipv4", "256.1.1.1, 1.2.3.4.5, v1.2.3 and 10.0.0"],
    ["ipv6", "std::cout, 10:30:00, a:b:c, de:ad:be:ef:00:01 and ::"],
    ["aws_access_key", "AKIAIOSFODNN7EXAMPL, akiaiosfodnn7example, XKIAIOSFODNN7EXAMPLE"],
    ["credit_card", "4111111111111112, 1765065600000 (epoch ms), 1234 5678 9012 3456, order 12345678901234"],
    ["bearer_token", "the bearer of bad news; Bearer short"],
  ])("%s leaves %j", (rule, text) => {
    expect(redact(rule, text)).toEqual({ out: text, counts: {} });
  });

  it("checks card numbers with Luhn", () => {
    expect(["4111111111111111", "5500005555555559", "378282246310005"].map(luhnValid)).toEqual([
      true,
      true,
      true,
    ]);
    expect(["4111111111111112", "5500005555555558"].map(luhnValid)).toEqual([false, false]);
  });
});

describe("custom redaction rules", () => {
  it("replaces with replace_with, or names the rule, and counts per rule", () => {
    const rules = redactionRules([
      { name: "ticket", regex: "TCK-[0-9]{6}", replace_with: "[TICKET]" },
      { name: "order", regex: "ORD#" },
      "email",
    ]);
    const counts: RedactionCounts = {};
    expect(redactText("TCK-123456 and TCK-654321 by ORD# for a@example.com", rules, counts)).toBe(
      "[TICKET] and [TICKET] by [REDACTED:order] for [REDACTED:email]",
    );
    expect(counts).toEqual({ ticket: 2, order: 1, email: 1 });
  });

  it("an expression that backtracks exponentially in a backtracking engine runs in linear time", () => {
    const rules = redactionRules([{ name: "runs", regex: "(a+)+$" }]);
    const counts: RedactionCounts = {};
    const line = `${"a".repeat(30_000)}b`;
    expect(redactText(line, rules, counts)).toBe(line);
    expect(redactText("xaaaa", rules, counts)).toBe("x[REDACTED:runs]");
    expect(counts).toEqual({ runs: 1 });
  });
});

describe("redactRecord", () => {
  it("masks every string value at any depth, keys and other values as they are", () => {
    const record = {
      message: "login by jane@example.com",
      kubernetes: { labels: { owner: "ops@example.com" }, pod_ip: "10.1.2.3" },
      "jane@example.com": 1,
      list: ["x@example.org", 42, null, { deep: [["y@example.net"]] }],
    };
    const counts: RedactionCounts = {};
    redactRecord(record, redactionRules(["email", "ipv4"]), counts);
    expect(record).toEqual({
      message: "login by [REDACTED:email]",
      kubernetes: { labels: { owner: "[REDACTED:email]" }, pod_ip: "[REDACTED:ipv4]" },
      "jane@example.com": 1,
      list: ["[REDACTED:email]", 42, null, { deep: [["[REDACTED:email]"]] }],
    });
    expect(counts).toEqual({ email: 4, ipv4: 1 });
  });

  it("walks a record deeper than the stack without recursion", () => {
    let record: Record<string, unknown> = { leaf: "a@example.com" };
    for (let i = 0; i < 100_000; i++) record = { next: record };
    const counts: RedactionCounts = {};
    redactRecord(record, redactionRules(["email"]), counts);
    expect(counts).toEqual({ email: 1 });
  });
});
