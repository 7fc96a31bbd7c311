import { Shaper } from "../../../../../functions/distributor/shaping/shaper";
import { DeliveryConfigSchema, describeIssues } from "../../../../../functions/shared/delivery-config";
import { EVENT_RULE_LIMITS, FilterSchema } from "../../../../../functions/shared/event-rules";

const filter = (f: unknown) => Shaper.of({ filter: FilterSchema.parse(f) })!;
const event = (message: string, record?: Record<string, unknown>) => ({
  timestamp: 0,
  message,
  ...(record && { record }),
});
const pod = (namespace: string, message = "m") =>
  event(message, { message, kubernetes: { pod_namespace: namespace, container_name: "app" }, level: 3 });

describe("filters: which events go", () => {
  it("include: only events matching one include rule go; a dotted path reads the staged record", () => {
    const s = filter({ include: [{ field: "kubernetes.pod_namespace", regex: "^payments-" }] });
    expect(s.needsRecords).toBe(true);
    expect(s.verdict(pod("payments-prod"))).toBeUndefined();
    expect(s.verdict(pod("search-prod"))).toBe("include");
    // A missing field matches nothing, so an include rule keeps it back.
    expect(s.verdict(event("m", { message: "m" }))).toBe("include");
    expect(s.verdict(event("m", { kubernetes: "not an object" }))).toBe("include");
  });

  it("exclude: an event matching any exclude rule never goes, with the rule's number as the reason", () => {
    const s = filter({
      exclude: [
        { field: "message", regex: "GET /healthz" },
        { field: "message.level", in: ["debug", "trace"] },
        { field: "level", in: ["3"] },
      ],
    });
    expect(s.verdict(event("10.0.0.1 GET /healthz 200"))).toBe("exclude.0");
    expect(s.verdict(event('{"level":"debug","msg":"x"}'))).toBe("exclude.1");
    expect(s.verdict(event('  {"level":"info","msg":"x"}'))).toBeUndefined();
    // A number or boolean is read as its text.
    expect(s.verdict(pod("a"))).toBe("exclude.2");
  });

  it("message.<key> reads a JSON message, nested keys too; a message that is not a JSON object matches nothing", () => {
    const s = filter({ exclude: [{ field: "message.http.status", regex: "^5" }] });
    expect(s.needsRecords).toBe(false);
    expect(s.verdict(event('{"http":{"status":503}}'))).toBe("exclude.0");
    expect(s.verdict(event('{"http":{"status":200}}'))).toBeUndefined();
    expect(s.verdict(event("plain text 503"))).toBeUndefined();
    expect(s.verdict(event('{"http": broken 503'))).toBeUndefined();
    expect(s.verdict(event('["http",503]'))).toBeUndefined();
    expect(s.verdict(event(`${"[".repeat(100_000)}`))).toBeUndefined();
  });

  it("include and exclude together: included first, then excluded", () => {
    const s = filter({
      include: [{ field: "kubernetes.container_name", in: ["app"] }],
      exclude: [{ field: "message", regex: "(?i)debug" }],
    });
    expect(s.verdict(pod("x", "DEBUG: noise"))).toBe("exclude.0");
    expect(s.verdict(pod("x", "served"))).toBeUndefined();
  });

  it("a filter rule whose expression backtracks exponentially elsewhere runs in linear time", () => {
    const s = filter({ exclude: [{ field: "message", regex: "(a+)+$" }] });
    expect(s.verdict(event(`${"a".repeat(30_000)}b`))).toBeUndefined();
    expect(s.verdict(event(`b${"a".repeat(30_000)}`))).toBe("exclude.0");
  });

  it("no rules: no shaper; the fingerprint changes with the rules", () => {
    expect(Shaper.of({})).toBeUndefined();
    expect(Shaper.of({ filter: { include: [], exclude: [] }, redact: [] })).toBeUndefined();
    const a = Shaper.of({ redact: ["email"] })!;
    const b = Shaper.of({ redact: ["email", "ipv4"] })!;
    expect(a.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(Shaper.of({ redact: ["email"] })!.fingerprint).toBe(a.fingerprint);
    // Compiled once per config (the cached config object), not once per object delivered.
    const config = { redact: ["email" as const] };
    expect(Shaper.of(config)).toBe(Shaper.of(config));
  });
});

describe("filter and redact in a delivery config: every mistake named by its field", () => {
  const base = {
    tenant_id: "acme",
    type: "cloudwatch",
    log_distribution_role_arn: "arn:aws:iam::111111111111:role/r",
    external_id: "ext-acme-1",
    log_group_name: "/logs/acme",
  };
  const problems = (extra: Record<string, unknown>) => {
    const parsed = DeliveryConfigSchema.safeParse({ ...base, ...extra });
    return parsed.success ? [] : describeIssues(parsed.error);
  };

  it("accepts the documented shapes", () => {
    expect(
      problems({
        filter: {
          include: [{ field: "kubernetes.pod_namespace", regex: "^payments-" }],
          exclude: [
            { field: "message", regex: "GET /healthz" },
            { field: "message.level", in: ["debug", "trace"] },
          ],
        },
        redact: [
          "email",
          "ipv4",
          "ipv6",
          "aws_access_key",
          "credit_card",
          "bearer_token",
          { name: "ticket", regex: "TCK-[0-9]{6}", replace_with: "[TICKET]" },
        ],
      }),
    ).toEqual([]);
    // An expression that backtracks elsewhere is valid RE2: it runs in linear time.
    expect(problems({ filter: { exclude: [{ field: "message", regex: "(a+)+$" }] } })).toEqual([]);
  });

  it.each([
    [
      { filter: { exclude: [{ field: "message", regex: "(a)\\1" }] } },
      /^filter\.exclude\.0\.regex: not an RE2 expression/,
    ],
    [
      { filter: { exclude: [{ field: "message", regex: "(?=x)y" }] } },
      /^filter\.exclude\.0\.regex: not an RE2 expression/,
    ],
    [
      { filter: { include: [{ field: "message", regex: "x", in: ["y"] }] } },
      /^filter\.include\.0: a filter rule has either regex or in$/,
    ],
    [
      { filter: { include: [{ field: "a..b", regex: "x" }] } },
      /^filter\.include\.0\.field: field must be a dotted path/,
    ],
    [{ filter: { include: [{ field: "a.b.c.d.e.f.g.h.i", regex: "x" }] } }, /^filter\.include\.0\.field/],
    [{ filter: { exclude: [], extra: 1 } }, /^filter: Unrecognized key/],
    [{ redact: ["phone"] }, /^redact\.0: a built-in rule \(email, ipv4/],
    [{ redact: [{ name: "email", regex: "x" }] }, /^redact\.0\.name: name is a built-in rule's$/],
    [
      { redact: [{ name: "any", regex: "a*" }] },
      /^redact\.0\.regex: a redaction's regex must not match the empty string$/,
    ],
    [{ redact: ["email", "email"] }, /^redact\.1: email is listed twice$/],
    [
      {
        redact: Array.from({ length: EVENT_RULE_LIMITS.rules + 1 }, (_, i) => ({
          name: `r${i}`,
          regex: "x",
        })),
      },
      /^redact: Too big/,
    ],
    [
      { filter: { exclude: [{ field: "message", regex: "x".repeat(EVENT_RULE_LIMITS.regexChars + 1) }] } },
      /^filter\.exclude\.0\.regex: Too big/,
    ],
  ])("%j", (extra, message) => {
    expect(problems(extra)).toEqual([expect.stringMatching(message)]);
  });
});
