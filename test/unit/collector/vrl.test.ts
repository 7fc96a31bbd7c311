import { gzipSync } from "node:zlib";
import { check, execute, formatDiagnostic } from "@bpinternal/verel";
import { newReadStats, readLogEvents } from "../../../functions/distributor/log-records";
import { parseObjectKey } from "../../../functions/distributor/object-key";
import {
  collectorProgram,
  interpolate,
  KEY_PREFIX_TEMPLATE,
  QUARANTINE_PREFIX_TEMPLATE,
  renderTemplate,
} from "../../../stacks/collector/templates";
import fixtures from "../../fixtures/kubernetes-log-events.json";

const AGENT_ENV = { LOGRELAY_CLUSTER_ID: "rosa-prod-1", LOGRELAY_TENANT_LABEL: "logrelay.io/tenant-id" };
const program = interpolate(collectorProgram(), AGENT_ENV);
type Case = (typeof fixtures.cases)[number] & {
  expect?: Record<string, string>;
  key_prefix?: string;
  quarantine?: string;
};
const cases = fixtures.cases as Case[];
const run = (event: unknown) => execute(program, event).event as Record<string, unknown>;

describe("collector VRL program (real VRL compiler and runtime)", () => {
  it("compiles without errors or warnings", () => {
    const result = check(program);
    expect(result.errors.map(formatDiagnostic)).toEqual([]);
    expect(result.warnings.map(formatDiagnostic)).toEqual([]);
  });

  it("uses only the variables the agent's environment sets", () => {
    expect(() => interpolate(collectorProgram(), { LOGRELAY_CLUSTER_ID: "c" })).toThrow(
      /LOGRELAY_TENANT_LABEL/,
    );
  });

  it.each(cases.filter((c) => !c.quarantine).map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const out = run(c.event);

    const { timestamp, ...fields } = c.expect ?? {};
    expect(out).toMatchObject({ cluster_id: "rosa-prod-1", message: c.event.message, ...fields });
    if (timestamp) expect(Date.parse(String(out.timestamp))).toBe(Date.parse(timestamp));
    expect(out).not.toHaveProperty("kubernetes");
    expect(out).not.toHaveProperty("logrelay_quarantine_reason");
    const prefix = renderTemplate(KEY_PREFIX_TEMPLATE, out);
    expect(prefix).toBe(c.key_prefix);
    // The distributor accepts the key Vector will write (prefix + time + UUID + extension).
    expect(() =>
      parseObjectKey(`${prefix}1795384129-0b7c6f2e-7f3a-4a53-9d55-1f0e2b3c4d5e.log.gz`),
    ).not.toThrow();
  });

  it.each(cases.filter((c) => c.quarantine).map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const out = run(c.event);

    expect(out.logrelay_quarantine_reason).toBe(c.quarantine);
    expect(out).not.toHaveProperty("tenant_id");
    expect(() => renderTemplate(KEY_PREFIX_TEMPLATE, out)).toThrow(/missing/);
    expect(renderTemplate(QUARANTINE_PREFIX_TEMPLATE, out)).toBe(`_quarantine/rosa-prod-1/${c.quarantine}/`);
    expect(out.message).toBe(c.event.message);
  });

  it("what the collector writes is what the distributor reads (format contract)", async () => {
    const good = cases.filter((c) => !c.quarantine);
    const outputs = good.map((c) => run(c.event));
    // Vector's aws_s3 sink: json codec, newline_delimited framing, gzip.
    const object = gzipSync(`${outputs.map((o) => JSON.stringify(o)).join("\n")}\n`);
    const stats = newReadStats();
    const events = [];
    async function* body() {
      yield object;
    }
    for await (const batch of readLogEvents(body(), { fallbackTimestampMs: 0 }, stats)) events.push(...batch);

    expect(stats.badLines).toBe(0);
    expect(events.map((e) => e.message)).toEqual(good.map((c) => c.event.message));
    expect(events.map((e) => e.timestamp)).toEqual(outputs.map((o) => Date.parse(String(o.timestamp))));
  });
});
