import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { heartbeatMessage } from "../../scripts/sample-data";
import {
  CENTRAL_ACCOUNT,
  clientsFor,
  createBucket,
  distributorEnv,
  distributorTables,
  putConfig,
  putObject,
  REGION,
  readLogGroup,
} from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { ndjsonGz } from "../harness/factories";
import { useMoto } from "../harness/moto-suite";

const BUCKET = "logrelay-hb-staging";
const TENANT = "logrelay-heartbeat";
const GROUP = "/logrelay/local/logrelay-heartbeat/us-east-1";
const tables = {
  config: "logrelay-hb-configs",
  registry: "logrelay-hb-registry",
  ledger: "logrelay-hb-ledger",
};

/** The heartbeat lines of one object, as the collector stages them, `minutesAgo` old. */
function heartbeats(cluster: string, series: string, seqs: number[], minutesAgo: number): Buffer {
  const base = Date.now() - minutesAgo * 60_000;
  return ndjsonGz(
    seqs.map((seq, i) => {
      // To the second, as the workload prints it.
      const at = new Date(Math.floor((base - (seqs.length - 1 - i) * 60_000) / 1000) * 1000);
      return {
        message: heartbeatMessage(cluster, series, seq, at),
        timestamp: at.toISOString(),
        tenant_id: TENANT,
        cluster_id: cluster,
      };
    }),
  );
}

describe("every cluster's pulse, from heartbeats delivered through the real CLI (logrelay status)", () => {
  useMoto();
  const env = () => distributorEnv(tables);
  let queue: string;
  let dlq: string;
  let environmentFile: string;

  beforeAll(async () => {
    await distributorTables(tables, { [TENANT]: [CENTRAL_ACCOUNT] });
    await putConfig(tables.config, {
      tenant_id: TENANT,
      type: "cloudwatch",
      log_distribution_role_arn: `arn:aws:iam::${CENTRAL_ACCOUNT}:role/logrelay/logrelay-log-distribution-${TENANT}`,
      external_id: "logrelay-local-heartbeat-0123456789abcdef",
      log_group_name: GROUP,
    });
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    await createBucket(s3, BUCKET);
    const sqs = new SQSClient({ region: REGION });
    queue = (await sqs.send(new CreateQueueCommand({ QueueName: "hb-delivery" }))).QueueUrl!;
    dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "hb-delivery-dlq" }))).QueueUrl!;
    environmentFile = join(mkdtempSync(join(tmpdir(), "hb-env-")), "hb.json");
    writeFileSync(
      environmentFile,
      JSON.stringify({
        name: "hb",
        account_id: CENTRAL_ACCOUNT,
        regions: [REGION],
        clusters: ["cluster-a", "cluster-b", "cluster-c"].map((id) => ({
          id,
          region: REGION,
          oidc_issuer_url: `https://oidc.example.com/${id}`,
          namespace: `logrelay-${id}`,
        })),
      }),
    );
    // Cluster A: fresh, its series missing seq 3 and 6 (two objects, one of them late);
    // cluster B: its last heartbeat 20 minutes ago; cluster C: none.
    const objects: [string, Buffer][] = [
      ["cluster-a/logrelay-heartbeat/hb-a/1-x.log.gz", heartbeats("cluster-a", "sa", [1, 2, 4], 4)],
      ["cluster-a/logrelay-heartbeat/hb-a/2-x.log.gz", heartbeats("cluster-a", "sa", [5, 7], 0)],
      ["cluster-b/logrelay-heartbeat/hb-b/1-x.log.gz", heartbeats("cluster-b", "sb", [1, 2, 3], 20)],
    ];
    for (const [key, body] of objects) {
      await putObject(s3, BUCKET, `${TENANT}/${key}`, body);
      const run = await runCaptured(["deliver", "--bucket", BUCKET, "--key", `${TENANT}/${key}`], env());
      expect([run.code, run.err]).toEqual([0, expect.any(String)]);
    }
  });

  it("the heartbeats reached the heartbeat tenant's log group, as any tenant's logs do", async () => {
    const group = await readLogGroup((await clientsFor(CENTRAL_ACCOUNT)).logs, GROUP);
    expect(Object.keys(group!).sort()).toEqual([
      expect.stringMatching(/^cluster-a\/logrelay-heartbeat\/hb-a\//),
      expect.stringMatching(/^cluster-b\/logrelay-heartbeat\/hb-b\//),
    ]);
    expect(Object.values(group!).flat()).toHaveLength(8);
  });

  it("status -o json: A ok with 2 gaps, B stale, C never", async () => {
    const { code, out } = await runCaptured(
      ["status", "--environment", environmentFile, "--queue-url", queue, "--dlq-url", dlq, "-o", "json"],
      env(),
    );
    const clusters = JSON.parse(out).clusters;
    expect(clusters).toEqual([
      {
        cluster_id: "cluster-a",
        last_heartbeat_at: expect.any(String),
        lag_seconds: expect.any(Number),
        gaps: 2,
        state: "ok",
      },
      {
        cluster_id: "cluster-b",
        last_heartbeat_at: expect.any(String),
        lag_seconds: expect.any(Number),
        gaps: 0,
        state: "stale",
      },
      { cluster_id: "cluster-c", last_heartbeat_at: null, lag_seconds: null, gaps: 0, state: "never" },
    ]);
    expect(Date.now() - Date.parse(clusters[0].last_heartbeat_at)).toBeLessThan(120_000);
    expect(Date.now() - Date.parse(clusters[1].last_heartbeat_at)).toBeGreaterThan(19 * 60_000);
    expect(code).toBe(1); // silent clusters need attention
  });

  it("status --check exits 1 with one line naming B and C", async () => {
    const { code, out, err } = await runCaptured(
      ["status", "--environment", environmentFile, "--check"],
      env(),
    );
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toMatch(
      /^logrelay: 2 cluster\(s\) without a recent heartbeat: cluster-b \(stale since .*\), cluster-c \(never seen\)$/m,
    );
  });

  it("status --check is 0 once every cluster is fresh", async () => {
    const { code, out } = await runCaptured(
      ["status", "--environment", environmentFile, "--check", "--stale-after-seconds", "100000"],
      env(),
    );
    expect(code).toBe(1); // C was never seen: still not ok
    expect(out).toBe("");
    const onlyA = join(mkdtempSync(join(tmpdir(), "hb-env-")), "hb.json");
    writeFileSync(
      onlyA,
      JSON.stringify({
        name: "hb",
        account_id: CENTRAL_ACCOUNT,
        regions: [REGION],
        clusters: [{ id: "cluster-a", region: REGION, oidc_issuer_url: "https://oidc.example.com/a" }],
      }),
    );
    const ok = await runCaptured(
      ["status", "--environment", onlyA, "--check", "--stale-after-seconds", "100000"],
      env(),
    );
    expect([ok.code, ok.out]).toEqual([0, "2 cluster(s) ok\n"]);
  });
});
