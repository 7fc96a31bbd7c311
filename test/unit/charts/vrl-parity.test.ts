import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { check, formatDiagnostic } from "@bpinternal/verel";
import { CHART_DIR, PINNED_VECTOR, VRL_FUNCTIONS_USED } from "../../../stacks/collector/templates";
import { ClusterSchema } from "../../../stacks/config";

const programs = readdirSync(join(CHART_DIR, "vrl"))
  .filter((f) => f.endsWith(".vrl"))
  .map((f) => ({ file: f, text: readFileSync(join(CHART_DIR, "vrl", f), "utf8") }));

/** Function calls in a VRL program (VRL has no user functions: every call is the standard library's). */
function functionsCalled(text: string): string[] {
  const code = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/r'(?:[^'\\]|\\.)*'/g, "''")
    .replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...code.matchAll(/\b([a-z_][a-z0-9_]*)!?\(/g)].map((m) => m[1]!);
}

describe(`VRL parity: the test compiler (vrl ${PINNED_VECTOR.testCompilerVrlVersion}) and Vector ${PINNED_VECTOR.vectorVersion} (vrl ${PINNED_VECTOR.vrlVersion})`, () => {
  it("the chart version clusters default to is the one these facts were checked for", () => {
    const cluster = ClusterSchema.parse({
      id: "c",
      region: "us-east-1",
      oidc_issuer_url: "https://oidc.example.com/c",
    });

    // When this fails: see README, "VRL parity", before changing PINNED_VECTOR.
    expect(cluster.chart_version).toBe(PINNED_VECTOR.chartVersion);
  });

  it("the programs call only functions checked in both standard libraries", () => {
    const called = [...new Set(programs.flatMap((p) => functionsCalled(p.text)))].sort();

    expect(called).toEqual([...VRL_FUNCTIONS_USED].sort());
  });

  it.each(programs.map((p) => [p.file, p.text] as const))(
    "%s compiles with the test compiler",
    (_file, text) => {
      const { errors } = check(text.replace(/\$\{(\w+)\}/g, "$1"));
      expect(errors.map(formatDiagnostic)).toEqual([]);
    },
  );
});
