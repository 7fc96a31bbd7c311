import { gzipSync } from "node:zlib";
import { check, formatDiagnostic } from "@bpinternal/verel";
import fc from "fast-check";
import { parseObjectKey } from "../../../functions/distributor/admission/object-key";
import { newReadStats, readLogEvents } from "../../../functions/distributor/reading/log-records";
import { KEY_SEGMENT_PATTERN, TENANT_ID_PATTERN } from "../../../functions/shared/patterns";
import {
  collectorProgram,
  interpolate,
  KEY_PREFIX_TEMPLATE,
  QUARANTINE_PREFIX_TEMPLATE,
  renderTemplate,
} from "../../../stacks/collector/templates";
import fixtures from "../../fixtures/kubernetes-log-events.json";
import {
  AGENT_ENV,
  agentProgram,
  heartbeatAgentProgram,
  runCollector,
  runHeartbeat,
} from "../../harness/collector";

const program = agentProgram;
type Case = (typeof fixtures.cases)[number] & {
  expect?: Record<string, string>;
  key_prefix?: string;
  quarantine?: string;
};
const cases = fixtures.cases as Case[];
const run = runCollector;

type Field = "tenant" | "application" | "pod";
/** Runs the program on an event whose tenant, application or pod is `value` (the others valid). */
function probeSegment(field: Field, value: string) {
  const segments: Record<Field, string> = { tenant: "acme", application: "web", pod: "web-0" };
  segments[field] = value;
  const { tenant, application, pod } = segments;
  const out = run({
    message: "m",
    timestamp: "2026-11-22T10:15:31Z",
    kubernetes: {
      pod_name: pod,
      container_name: "c",
      namespace_labels: { "logrelay.io/tenant-id": tenant },
      pod_labels: { app: application },
    },
  });
  // What the distributor's shared patterns (and the writer policy) accept.
  const accepted =
    TENANT_ID_PATTERN.test(tenant) &&
    KEY_SEGMENT_PATTERN.test(application) &&
    KEY_SEGMENT_PATTERN.test(pod) &&
    application !== AGENT_ENV.LOGRELAY_CLUSTER_ID &&
    pod !== AGENT_ENV.LOGRELAY_CLUSTER_ID;
  if (accepted && out.logrelay_quarantine_reason === undefined) {
    expect(parseObjectKey(`${renderTemplate(KEY_PREFIX_TEMPLATE, out)}1795384129-u.log.gz`)).toMatchObject({
      tenantId: tenant,
      application,
      podName: pod,
    });
  }
  return { accepted, quarantined: out.logrelay_quarantine_reason !== undefined };
}

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

  it("accepts exactly the characters and lengths the distributor's shared patterns accept", () => {
    const punctuation = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter(
      (c) => !/[A-Za-z0-9]/.test(c),
    );
    const characters = [
      ...punctuation,
      "a",
      "z",
      "A",
      "Z",
      "0",
      "9",
      "\t",
      "\n",
      "\u0000",
      "\u007f",
      "é",
      "ß",
    ];
    const values = [
      ...characters.map((c) => `a${c}0`),
      ...["-", ".", "_", "A", " ", "é"].map((c) => `${c}a`),
      ...[62, 63, 64, 252, 253, 254].map((n) => "a".repeat(n)),
      "",
    ];
    const disagreements: string[] = [];
    for (const field of ["tenant", "application", "pod"] as const) {
      for (const value of values) {
        const { accepted, quarantined } = probeSegment(field, value);
        if (accepted === quarantined)
          disagreements.push(`${field}=${JSON.stringify(value)} accepted by TS: ${accepted}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("decides like the shared patterns for random values near the rules", () => {
    const hostile = "abcz09AZ-._/= \t\u0000é%~";
    const alphabet = { tenant: "ab09-", application: "aZ09-._", pod: "aZ09-._" } as const;
    // The field's own alphabet in an alphanumeric frame, with at most one intruder.
    const near = (field: Field) =>
      fc
        .tuple(
          fc.string({ unit: fc.constantFrom(...alphabet[field].split("")), maxLength: 10 }),
          fc.option(fc.tuple(fc.nat(10), fc.constantFrom(...hostile.split("")))),
        )
        .map(([inner, intruder]) =>
          intruder
            ? `a${inner.slice(0, intruder[0])}${intruder[1]}${inner.slice(intruder[0])}0`
            : `a${inner}0`,
        );
    const probe = fc.constantFrom<Field>("tenant", "application", "pod").chain((field) =>
      fc.tuple(
        fc.constant(field),
        fc.oneof(
          { weight: 3, arbitrary: near(field) },
          {
            weight: 1,
            arbitrary: fc.string({ unit: fc.constantFrom(...hostile.split("")), maxLength: 8 }),
          },
        ),
      ),
    );
    const seen = { accepted: 0, quarantined: 0 };
    fc.assert(
      fc.property(probe, ([field, value]) => {
        const { accepted, quarantined } = probeSegment(field, value);
        seen[accepted ? "accepted" : "quarantined"]++;
        expect([field, value, !quarantined]).toEqual([field, value, accepted]);
      }),
      { numRuns: 40 },
    );
    expect(seen.accepted).toBeGreaterThan(5);
    expect(seen.quarantined).toBeGreaterThan(5);
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

describe("heartbeats in the collector (real VRL compiler and runtime)", () => {
  const line = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      logrelay_heartbeat: 1,
      cluster_id: "rosa-prod-1",
      series: "6f1c2a3e-0b4d-4f5e-8a9b-1c2d3e4f5a6b",
      seq: 7,
      emitted_at: "2026-12-06T21:15:35Z",
      ...extra,
    });
  const heartbeatEvent = (message: string, pod = "logrelay-heartbeat-7d9f-x2") => ({
    message,
    timestamp: "2026-12-06T21:15:36.100Z",
    stream: "stdout",
    kubernetes: {
      pod_name: pod,
      pod_namespace: "logrelay-heartbeat",
      container_name: "heartbeat",
      namespace_labels: {},
      pod_labels: { "app.kubernetes.io/name": "logrelay-heartbeat" },
    },
  });

  it("compiles without errors or warnings", () => {
    const result = check(heartbeatAgentProgram);
    expect(result.errors.map(formatDiagnostic)).toEqual([]);
    expect(result.warnings.map(formatDiagnostic)).toEqual([]);
  });

  it("a heartbeat line becomes a staged record of the heartbeat tenant, keyed like any tenant's, at its emit time", () => {
    const out = runHeartbeat(heartbeatEvent(line()));
    expect(out).toMatchObject({
      tenant_id: "logrelay-heartbeat",
      cluster_id: "rosa-prod-1",
      application: "logrelay-heartbeat",
      pod_name: "logrelay-heartbeat-7d9f-x2",
      message: line(),
    });
    expect(String(out.timestamp)).toMatch(/^2026-12-06T21:15:35/);
    expect(parseObjectKey(`${renderTemplate(KEY_PREFIX_TEMPLATE, out)}1795384129-u.log.gz`)).toMatchObject({
      tenantId: "logrelay-heartbeat",
      clusterId: "rosa-prod-1",
    });
  });

  it("whatever the heartbeat line claims, the cluster is the collector's own", () => {
    const out = runHeartbeat(heartbeatEvent(line({ cluster_id: "another-cluster", tenant_id: "acme" })));
    expect(out).toMatchObject({ tenant_id: "logrelay-heartbeat", cluster_id: "rosa-prod-1" });
  });

  it("application lines never become heartbeats, whatever their labels and lines say", () => {
    // A pod of tenant acme labelled and logging like the heartbeat stays acme's.
    const mimic = run({
      message: line(),
      timestamp: "2026-12-06T21:15:36Z",
      kubernetes: {
        pod_name: "logrelay-heartbeat-fake",
        container_name: "heartbeat",
        namespace_labels: { "logrelay.io/tenant-id": "acme" },
        pod_labels: {
          "app.kubernetes.io/name": "logrelay-heartbeat",
          "logrelay.io/tenant-id": "logrelay-heartbeat",
        },
      },
    });
    expect(mimic).toMatchObject({ tenant_id: "acme", application: "logrelay-heartbeat" });
    // A namespace labelled with the heartbeat tenant is refused: only the heartbeat source speaks for it.
    const claimed = run({
      message: "hello",
      timestamp: "2026-12-06T21:15:36Z",
      kubernetes: {
        pod_name: "web-0",
        container_name: "web",
        namespace_labels: { "logrelay.io/tenant-id": "logrelay-heartbeat" },
        pod_labels: { app: "web" },
      },
    });
    expect(claimed.logrelay_quarantine_reason).toBe("reserved_tenant");
    expect(claimed.tenant_id).toBeUndefined();
  });
});
