import { check, execute } from "@bpinternal/verel";
import { MULTILINE, multilineStartCondition } from "../../../stacks/collector/templates";
import { vectorValues } from "../../../stacks/collector/vector-values";
import fixtures from "../../fixtures/multiline-traces.json";
import { type ReduceInput, reduceLikeVector } from "../../harness/vector-reduce";

const condition = multilineStartCondition();
/** The real VRL compiler and runtime decide, as Vector's `starts_when` does. */
const decided = new Map<string, boolean>();
const startsEvent = (event: ReduceInput): boolean => {
  // The condition reads only the message: one run per distinct line.
  const known = decided.get(event.message);
  if (known !== undefined) return known;
  const { result } = execute(condition, { message: event.message, file: event.file, stream: event.stream });
  if (typeof result !== "boolean") throw new Error(`the condition returned ${JSON.stringify(result)}`);
  decided.set(event.message, result);
  return result;
};
const options = {
  groupBy: MULTILINE.groupBy,
  maxEvents: MULTILINE.maxEvents,
  expireAfterMs: MULTILINE.expireAfterMs,
};
const linesOf = (lines: string[], file = "/var/log/pods/acme_web-0/web/0.log", start = 0): ReduceInput[] =>
  lines.map((message, i) => ({ message, file, stream: "stdout", at: start + i }));

describe("multi-line merging (Vector reduce before the logrelay program)", () => {
  it("the starts_when condition compiles in the real VRL compiler, without warnings", () => {
    const { errors, warnings } = check(condition);
    expect([errors, warnings]).toEqual([[], []]);
  });

  it.each(fixtures.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const merged = reduceLikeVector(linesOf(c.lines), startsEvent, options);

    expect(merged.map((m) => m.message)).toEqual(
      c.expected.map((idx) => idx.map((i) => c.lines[i]).join("\n")),
    );
  });

  it("merges each container on its own when their lines interleave", () => {
    const java = fixtures.cases[0]!.lines;
    const go = fixtures.cases[2]!.lines;
    const a = linesOf(java, "/var/log/pods/acme_orders-0/orders/0.log");
    const b = linesOf(go, "/var/log/pods/acme_api-0/api/0.log");
    const interleaved = Array.from({ length: Math.max(a.length, b.length) }, (_, i) => [a[i], b[i]])
      .flat()
      .filter((e): e is ReduceInput => e !== undefined)
      .map((e, i) => ({ ...e, at: i }));

    const merged = reduceLikeVector(interleaved, startsEvent, options);

    const forFile = (f: string) => merged.filter((m) => m.file === f).map((m) => m.lines);
    expect(forFile(a[0]!.file).sort()).toEqual([1, 1, 10].sort());
    expect(forFile(b[0]!.file).sort()).toEqual([1, 1, 12].sort());
  });

  it("bounds an event at max_events lines: a longer trace becomes several events, nothing lost", () => {
    const lines = [
      'Exception in thread "main" java.lang.StackOverflowError',
      ...Array(1_100).fill("\tat f(F.java:1)"),
    ];

    const merged = reduceLikeVector(linesOf(lines), startsEvent, options);

    expect(merged.map((m) => m.lines)).toEqual([500, 500, 101]);
    expect(merged.flatMap((m) => m.message.split("\n"))).toEqual(lines);
  });

  it("flushes after the timeout: a continuation line that comes later starts its own event", () => {
    const lines = linesOf(["Error: boom", "    at a (a.js:1:1)"]);
    const late = { ...lines[1]!, at: MULTILINE.expireAfterMs + 10 };

    const merged = reduceLikeVector([lines[0]!, late], startsEvent, options);

    expect(merged.map((m) => m.lines)).toEqual([1, 1]);
  });

  it("is what the agent runs: a reduce per file and stream, before the program, with these rules", () => {
    const values = vectorValues({
      clusterId: "c1",
      region: "us-east-1",
      serviceAccountName: "collector",
      stagingBucket: "staging",
      heartbeat: { tenantId: "logrelay-heartbeat" },
    }) as { customConfig: { transforms: Record<string, Record<string, unknown>> } };
    const { multiline, logrelay } = values.customConfig.transforms;

    expect(multiline).toEqual({
      type: "reduce",
      inputs: ["kubernetes"],
      group_by: ["file", "stream"],
      merge_strategies: { message: "concat_newline" },
      starts_when: { type: "vrl", source: condition },
      max_events: 500,
      expire_after_ms: 2000,
      flush_period_ms: 500,
    });
    expect(logrelay!.inputs).toEqual(["multiline"]);
  });
});
