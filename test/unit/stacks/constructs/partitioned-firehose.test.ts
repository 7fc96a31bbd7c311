import { spawnSync } from "node:child_process";
import { parseObjectKey } from "../../../../functions/distributor/admission/object-key";
import { PARTITION_KEYS, partitionQuery } from "../../../../stacks/constructs/partitioned-firehose";
import fixtures from "../../../fixtures/kubernetes-log-events.json";
import { runCollector } from "../../../harness/collector";

/**
 * Firehose's dynamic partitioning, run by the jq on this machine: Debian's jq 1.6, the JQ version
 * the stream names (JsonParsingEngine JQ-1.6). .ci/run installs it when missing.
 */
function requireJq16(): void {
  const version = spawnSync("jq", ["--version"], { encoding: "utf8" });
  if (version.error || version.status !== 0) {
    throw new Error("jq is not installed: run `apt-get install -y jq` (Debian's jq 1.6; .ci/run does this)");
  }
  if (!version.stdout.startsWith("jq-1.6")) {
    throw new Error(
      `Firehose partitions with JQ 1.6; this machine has ${version.stdout.trim()}: install Debian's jq 1.6`,
    );
  }
}

type Partition = Record<(typeof PARTITION_KEYS)[number], string> | { __error: string };

/** Every record through the stream's query in one jq run; a failing record yields its error. */
function partition(records: unknown[]): Partition[] {
  const out = spawnSync("jq", ["-c", `try (${partitionQuery()}) catch {"__error": .}`], {
    input: records.map((r) => JSON.stringify(r)).join("\n"),
    encoding: "utf8",
  });
  if (out.status !== 0) throw new Error(`jq failed (${out.status}): ${out.stderr}`);
  return out.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Partition);
}

const valid = {
  tenant_id: "acme",
  cluster_id: "rosa-prod-1",
  application: "web",
  pod_name: "web-0",
  message: "m",
};

describe("Firehose partitioning, executed by jq 1.6", () => {
  beforeAll(requireJq16);

  it("partitions every staged record the collector writes into the key segments the distributor reads", () => {
    const staged = fixtures.cases
      .map((c) => runCollector(c.event))
      .filter((record) => record.logrelay_quarantine_reason === undefined);
    expect(staged.length).toBeGreaterThan(5);

    const partitions = partition(staged);

    partitions.forEach((p, i) => {
      const record = staged[i]!;
      expect(p).toEqual(Object.fromEntries(PARTITION_KEYS.map((k) => [k, record[k]])));
      const keys = p as Record<string, string>;
      const key = `${keys.tenant_id}/${keys.cluster_id}/${keys.application}/${keys.pod_name}/ingest-1-2026-11-28-10-15-30-u.gz`;
      expect(parseObjectKey(key)).toMatchObject({ tenantId: record.tenant_id, podName: record.pod_name });
    });
  });

  it.each([
    ["a missing tenant", { ...valid, tenant_id: undefined }],
    ["a null tenant", { ...valid, tenant_id: null }],
    ["a path in the tenant", { ...valid, tenant_id: "../globex" }],
    ["a slash in the application", { ...valid, application: "web/../../x" }],
    ["an upper-case tenant", { ...valid, tenant_id: "Acme" }],
    ["a 64-character tenant", { ...valid, tenant_id: "a".repeat(64) }],
    ["a pod name of '..'", { ...valid, pod_name: ".." }],
    ["a number as cluster", { ...valid, cluster_id: 7 }],
    ["a newline in the pod name", { ...valid, pod_name: "web-0\nevil" }],
    ["a space in the application", { ...valid, application: "my app" }],
    ["an object as application", { ...valid, application: { name: "web" } }],
    ["a 254-character pod name", { ...valid, pod_name: "p".repeat(254) }],
  ])("cannot partition %s: the record goes to the error output", (_what, record) => {
    const [p] = partition([record]);

    expect(p).toEqual({ __error: expect.stringMatching(/is missing or not a valid key segment$/) });
  });

  it("accepts the longest valid values (63-character tenant, 253-character segments)", () => {
    const longest = { ...valid, tenant_id: `a${"b".repeat(61)}c`, pod_name: "p".repeat(253) };

    expect(partition([longest])).toEqual([
      {
        tenant_id: longest.tenant_id,
        cluster_id: "rosa-prod-1",
        application: "web",
        pod_name: longest.pod_name,
      },
    ]);
  });
});
