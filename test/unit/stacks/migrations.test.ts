import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ClusterStack } from "../../../stacks/cluster-stack";
import { ADDRESS_MOVES, migrateClusterSettings, SETTING_RENAMES } from "../../../stacks/migrations";
import { RegionalStack } from "../../../stacks/regional-stack";
import { env, synth, testApp } from "../../harness/synth";

const ROOT = join(__dirname, "..", "..", "..");
type Moved = { from: string; to: string };
const movesOf = (json: unknown) => (json as { moved?: Moved[] }).moved ?? [];

const e = env({
  tenant_freshness: [{ tenant_id: "acme", max_p99_seconds: 600 }],
  alarm_email: "oncall@example.com",
  clusters: [
    {
      id: "c1",
      region: "us-east-1",
      oidc_issuer_url: "https://oidc.example.com/c1",
      distributor: { image: "i:1", keda: {} },
    },
  ],
});
const regional = movesOf(synth(new RegionalStack(testApp(), e, "us-east-1")));
const cluster = movesOf(synth(new ClusterStack(testApp(), e, e.clusters[0]!)));

describe("stacks/migrations.ts: every address change in one place", () => {
  it("every listed move lands on a resource the stacks still create (a stale entry is noticed)", () => {
    const from = new Set([...regional, ...cluster].map((m) => m.from));
    for (const m of ADDRESS_MOVES) for (const old of Object.values(m.moves)) expect(from).toContain(old);
  });

  it("each old address is of the resource's own type, and moves nothing twice", () => {
    for (const moves of [regional, cluster]) {
      for (const m of moves) expect(m.from.split(".")[0]).toBe(m.to.split(".")[0]);
      expect(new Set(moves.map((m) => m.from)).size).toBe(moves.length);
      expect(new Set(moves.map((m) => m.to)).size).toBe(moves.length);
    }
  });

  it("the monitoring rule moves the alarms of 0.1.0 by their ids, per-tenant freshness alarms included", () => {
    expect(regional).toContainEqual({
      from: "aws_cloudwatch_metric_alarm.freshness-acme-cloudwatch",
      to: expect.stringMatching(/^aws_cloudwatch_metric_alarm\.monitoring_freshness-acme-cloudwatch_/),
    });
    expect(regional).toContainEqual({
      from: "aws_sns_topic_subscription.alarm-email",
      to: expect.stringMatching(/^aws_sns_topic_subscription\.monitoring_alarm-email_/),
    });
  });

  it("each entry says the release it maps and the release that may drop it", () => {
    const version = /^\d+\.\d+\.\d+$/;
    for (const m of [...ADDRESS_MOVES, ...SETTING_RENAMES]) {
      expect(m.from).toMatch(version);
      expect(m.dropIn).toMatch(version);
      expect(m.why.length).toBeGreaterThan(10);
    }
  });

  it("renamed settings are read under their new name, and a file with both keeps the new one", () => {
    expect(migrateClusterSettings({ id: "c", processor: { image: "i" } })).toEqual({
      id: "c",
      distributor: { image: "i" },
    });
    const both = { processor: { image: "old" }, distributor: { image: "new" } };
    expect(migrateClusterSettings(both)).toBe(both);
  });

  it("no code reaches into CDKTF's private modules", () => {
    const privateModules = ["cdktf", "lib", "private"].join("/");
    const grep = spawnSync("git", ["grep", "-n", privateModules, "--", "*.ts"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(grep.stdout).toBe("");
    expect(grep.status).toBe(1); // git grep: nothing found
  });
});
