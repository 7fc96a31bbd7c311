import { spawn } from "node:child_process";
import { parse } from "yaml";
import { DeliveryConfigSchema } from "../../../functions/shared/delivery-config";
import { parseRegistration } from "../../../functions/shared/tenant-registry";
import { ClusterStack } from "../../../stacks/cluster-stack";
import { GlobalStack } from "../../../stacks/global-stack";
import { HEARTBEAT_SCRIPT, heartbeatItems } from "../../../stacks/heartbeat";
import { RegionalStack } from "../../../stacks/regional-stack";
import { all, env, named, only, synth, testApp } from "../../harness/synth";

const apps = require("kubernetes-models/apps/v1") as typeof import("kubernetes-models/apps/v1");
const k8s = require("kubernetes-models/v1") as typeof import("kubernetes-models/v1");

const stackOf = (overrides: Record<string, unknown> = {}) => {
  const e = env({
    clusters: [{ id: "rosa-1", region: "us-east-1", oidc_issuer_url: "https://oidc.example.com/rosa-1" }],
    ...overrides,
  });
  return synth(new ClusterStack(testApp(), e, e.clusters[0]!));
};
const heartbeatOf = (j: ReturnType<typeof stackOf>) =>
  Object.values(all(j, "kubernetes_manifest"))
    .map((m) => m.manifest)
    .find((m) => m.metadata.name === "logrelay-heartbeat");
const valuesOf = (j: ReturnType<typeof stackOf>) =>
  parse((only(j, "helm_release").values[0] as string).replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{"));

describe("the heartbeat workload in every cluster", () => {
  const json = stackOf();
  const deployment = heartbeatOf(json);
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it("is a valid Deployment of one replica in a namespace of its own at Pod Security restricted", () => {
    new apps.Deployment(deployment).validate();
    expect(deployment.spec.replicas).toBe(1);
    const ns = Object.values(all(json, "kubernetes_namespace_v1"))
      .map((n) => n.metadata)
      .find((m) => m.name === "logrelay-heartbeat");
    expect(ns.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
    });
    new k8s.Namespace({ metadata: ns }).validate();
  });

  it("runs non-root, read-only, without capabilities or a service account token, with tiny requests", () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65534,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.resources).toEqual({
      requests: { cpu: "5m", memory: "8Mi" },
      limits: { cpu: "50m", memory: "32Mi" },
    });
    expect(container.env).toEqual([
      { name: "LOGRELAY_CLUSTER_ID", value: "rosa-1" },
      { name: "LOGRELAY_HEARTBEAT_INTERVAL", value: "60" },
    ]);
  });

  it("the collector reads it with a source of its own, ships it every interval, and the main source never reads it", () => {
    const { sources, transforms, sinks } = valuesOf(json).customConfig;
    expect(sources.heartbeat).toEqual({
      type: "kubernetes_logs",
      extra_field_selector: "metadata.namespace=logrelay-heartbeat",
      extra_label_selector: "app.kubernetes.io/name=logrelay-heartbeat",
    });
    expect(sources.kubernetes.extra_field_selector).toBe("metadata.namespace!=logrelay-heartbeat");
    expect(transforms.heartbeat_record.inputs).toEqual(["heartbeat"]);
    expect(sinks.heartbeat).toMatchObject({
      type: "aws_s3",
      inputs: ["heartbeat_record"],
      batch: { timeout_secs: 60 },
      compression: "gzip",
    });
    // Heartbeats skip the tenants' throttles.
    for (const [id, t] of Object.entries<{ inputs?: string[] }>(transforms))
      if (id.startsWith("throttle_")) expect(t.inputs).not.toContain("heartbeat_record");
  });

  it("goes straight to the staging bucket with Firehose ingestion too, and follows interval_seconds", () => {
    const { sinks } = valuesOf(
      stackOf({ ingestion: "firehose", heartbeat: { interval_seconds: 30 } }),
    ).customConfig;
    expect(sinks.staging.type).toBe("aws_kinesis_firehose");
    expect(sinks.heartbeat).toMatchObject({ type: "aws_s3", batch: { timeout_secs: 30 } });
  });

  it("is left out when heartbeat.enabled is false (the collector still refuses the reserved tenant)", () => {
    const off = stackOf({ heartbeat: { enabled: false } });
    expect(heartbeatOf(off)).toBeUndefined();
    const values = valuesOf(off);
    expect(values.customConfig.sources.heartbeat).toBeUndefined();
    expect(values.env).toContainEqual({ name: "LOGRELAY_HEARTBEAT_TENANT", value: "logrelay-heartbeat" });
  });

  it("prints the documented line: cluster, a series new at each start, seq counting from 1, the emit time", async () => {
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn("/bin/sh", ["-c", HEARTBEAT_SCRIPT], {
          env: { PATH: process.env.PATH, LOGRELAY_CLUSTER_ID: "rosa-1", LOGRELAY_HEARTBEAT_INTERVAL: "0.2" },
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.split("\n").length > 3) child.kill();
        });
        child.on("error", reject);
        child.on("exit", () => resolve(out.trim().split("\n").slice(0, 3)));
      });
    const first = (await run()).map((l) => JSON.parse(l));
    const second = (await run()).map((l) => JSON.parse(l));
    expect(first.map((l) => l.seq)).toEqual([1, 2, 3]);
    for (const line of first) {
      expect(Object.keys(line)).toEqual(["logrelay_heartbeat", "cluster_id", "series", "seq", "emitted_at"]);
      expect(line).toMatchObject({ logrelay_heartbeat: 1, cluster_id: "rosa-1", series: first[0].series });
      expect(Math.abs(Date.parse(line.emitted_at) - Date.now())).toBeLessThan(10_000);
      expect(line.emitted_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    }
    expect(second[0].series).not.toBe(first[0].series);
  });

  it("the environment refuses a customer named like the heartbeat tenant, and a cluster namespace it uses", () => {
    expect(() =>
      env({
        customers: [{ tenant_id: "logrelay-heartbeat", account_id: "111111111111", external_id: "xx-123" }],
      }),
    ).toThrow(/customers.0.tenant_id: logrelay-heartbeat is the heartbeat's tenant/);
    expect(() =>
      env({
        clusters: [
          {
            id: "c",
            region: "us-east-1",
            oidc_issuer_url: "https://oidc.example.com/c",
            namespace: "logrelay-heartbeat",
          },
        ],
      }),
    ).toThrow(/namespace logrelay-heartbeat is the heartbeat's/);
  });
});

describe("the heartbeat's destination in the platform's own account", () => {
  const e = env({
    clusters: [{ id: "rosa-1", region: "us-east-1", oidc_issuer_url: "https://oidc.example.com/r" }],
  });
  const regional = synth(new RegionalStack(testApp(), e, "us-east-1"));
  const untyped = (item: Record<string, Record<string, unknown>>) =>
    Object.fromEntries(
      Object.entries(item).map(([k, v]) => [
        k,
        "S" in v
          ? v.S
          : "N" in v
            ? Number(v.N)
            : "BOOL" in v
              ? v.BOOL
              : (v.L as { S: string }[]).map((x) => x.S),
      ]),
    );
  const items = Object.values(all(regional, "aws_dynamodb_table_item")).map((i) => ({
    table: String(i.table_name),
    item: untyped(JSON.parse(i.item)),
  }));

  it("a log group per region under the environment's and the tenant's prefix, with retention and the regional key", () => {
    const group = named(regional, "aws_cloudwatch_log_group", "name", "/logrelay-heartbeat/us-east-1");
    expect(group).toMatchObject({
      name: "/logrelay/test/logrelay-heartbeat/us-east-1",
      retention_in_days: 30,
    });
    expect(group.kms_key_id).toMatch(/aws_kms_key\.key/);
  });

  it("the tenant is registered to the platform's account only, and its config passes the shared schemas", () => {
    const registration = items.find((i) => i.table.includes("tenant-registry"))!.item;
    expect(parseRegistration(registration)).toEqual({
      ok: true,
      registration: { tenant_id: "logrelay-heartbeat", accounts: ["123456789012"] },
    });
    const config = DeliveryConfigSchema.parse(items.find((i) => i.table.includes("tenant-config"))!.item);
    expect(config).toMatchObject({
      tenant_id: "logrelay-heartbeat",
      type: "cloudwatch",
      log_group_name: "/logrelay/test/logrelay-heartbeat/us-east-1",
      log_distribution_role_arn:
        "arn:aws:iam::123456789012:role/logrelay/logrelay-log-distribution-logrelay-heartbeat.test",
    });
    expect(config.external_id).toMatch(/^logrelay-test-heartbeat-[0-9a-f]{16}$/);
  });

  it("two environments in one account name their heartbeat role and log groups apart", () => {
    const names = (name: string) => {
      const e = env({ name });
      const role = Object.values(all(synth(new GlobalStack(testApp(), e)), "aws_iam_role")).map(
        (r) => r.name,
      );
      const { config } = heartbeatItems(e, "us-east-1");
      return [...role, config.log_group_name, config.log_distribution_role_arn];
    };
    const [staging, prod] = [names("staging"), names("prod")];
    expect(staging.filter((n) => prod.includes(n))).toEqual([]);
    expect(prod).toEqual([
      "logrelay-prod-central-log-distribution",
      "logrelay-log-distribution-logrelay-heartbeat.prod",
      "/logrelay/prod/logrelay-heartbeat/us-east-1",
      "arn:aws:iam::123456789012:role/logrelay/logrelay-log-distribution-logrelay-heartbeat.prod",
    ]);
  });

  it("nothing of it when heartbeat.enabled is false", () => {
    const off = env({ heartbeat: { enabled: false } });
    const json = synth(new RegionalStack(testApp(), off, "us-east-1"));
    expect(all(json, "aws_dynamodb_table_item")).toEqual({});
    expect(Object.values(all(synth(new GlobalStack(testApp(), off)), "aws_iam_role"))).toHaveLength(1);
  });
});

describe("alarms on the clusters' heartbeats (regional stack)", () => {
  const cluster = (id: string, region = "us-east-1") => ({
    id,
    region,
    oidc_issuer_url: `https://oidc.example.com/${id}`,
  });
  const e = env({
    regions: ["us-east-1", "eu-west-1"],
    clusters: [cluster("rosa-1"), cluster("rosa-2"), cluster("eks-9", "eu-west-1")],
  });
  const json = synth(new RegionalStack(testApp(), e, "us-east-1"));
  const alarms = Object.values(all(json, "aws_cloudwatch_metric_alarm"));
  const byName = (suffix: string) => alarms.find((a) => String(a.alarm_name).endsWith(suffix));

  it("per cluster of the region: heartbeat missing for stale_after_seconds, missing data breaching", () => {
    expect(byName("-heartbeat-missing-rosa-1")).toMatchObject({
      namespace: "Logrelay",
      metric_name: "HeartbeatLag",
      dimensions: { service: "logrelay-distributor", cluster_id: "rosa-1" },
      statistic: "SampleCount",
      period: 60,
      evaluation_periods: 3,
      datapoints_to_alarm: 3,
      threshold: 1,
      comparison_operator: "LessThanThreshold",
      treat_missing_data: "breaching",
    });
    expect(byName("-heartbeat-missing-rosa-2")).toBeDefined();
    expect(byName("-heartbeat-missing-eks-9")).toBeUndefined(); // another region's stack watches it
  });

  it("and its lag above max_lag_seconds", () => {
    expect(byName("-heartbeat-lag-rosa-1")).toMatchObject({
      metric_name: "HeartbeatLag",
      statistic: "Maximum",
      threshold: 300_000,
      comparison_operator: "GreaterThanThreshold",
      treat_missing_data: "notBreaching",
    });
  });

  it("one composite for the pager over every cluster's missing alarm, on the dashboard too", () => {
    const composite = only(json, "aws_cloudwatch_composite_alarm");
    expect(composite.alarm_name).toBe("logrelay-test-us-east-1-clusters-silent");
    expect(composite.alarm_rule).toMatch(
      /^ALARM\("\$\{aws_cloudwatch_metric_alarm\.monitoring_heartbeat-missing-rosa-1_[^}]*\}"\) OR ALARM\("\$\{aws_cloudwatch_metric_alarm\.monitoring_heartbeat-missing-rosa-2_[^}]*\}"\)$/,
    );
    expect(composite.alarm_actions).toHaveLength(1);
    const widgets = JSON.parse(only(json, "aws_cloudwatch_dashboard").dashboard_body).widgets;
    expect(widgets.find((w: { type: string }) => w.type === "alarm").properties.alarms).toEqual([
      expect.stringMatching(/aws_cloudwatch_composite_alarm/),
    ]);
    expect(widgets.map((w: { properties: { title: string } }) => w.properties.title)).toContain(
      "Heartbeat lag per cluster (ms)",
    );
  });

  it("a stale_after_seconds of 5 intervals waits 5 periods; a 30 s interval still alarms per minute", () => {
    const slow = env({
      clusters: [cluster("c")],
      heartbeat: { interval_seconds: 30, stale_after_seconds: 300 },
    });
    const missing = Object.values(
      all(synth(new RegionalStack(testApp(), slow, "us-east-1")), "aws_cloudwatch_metric_alarm"),
    ).find((a) => String(a.alarm_name).endsWith("-heartbeat-missing-c"));
    expect(missing).toMatchObject({ period: 60, evaluation_periods: 5, datapoints_to_alarm: 5 });
  });

  it("a fleet past one composite's fan-in gets parts under the one composite", () => {
    const fleet = env({ clusters: Array.from({ length: 200 }, (_, i) => cluster(`c${i}`)) });
    const composites = Object.values(
      all(synth(new RegionalStack(testApp(), fleet, "us-east-1")), "aws_cloudwatch_composite_alarm"),
    );
    expect(composites.map((c) => c.alarm_name).sort()).toEqual([
      "logrelay-test-us-east-1-clusters-silent",
      "logrelay-test-us-east-1-clusters-silent-part-1",
      "logrelay-test-us-east-1-clusters-silent-part-2",
      "logrelay-test-us-east-1-clusters-silent-part-3",
    ]);
    const top = composites.find((c) => c.alarm_name.endsWith("clusters-silent"));
    expect(top.alarm_rule.match(/ALARM\(/g)).toHaveLength(3);
    const parts = composites.filter((c) => c.alarm_name.includes("-part-"));
    expect(parts.map((p) => p.alarm_rule.match(/ALARM\(/g).length)).toEqual([90, 90, 20]);
  });

  it("no heartbeat alarms when heartbeat.enabled is false", () => {
    const off = synth(
      new RegionalStack(
        testApp(),
        env({ clusters: [cluster("c")], heartbeat: { enabled: false } }),
        "us-east-1",
      ),
    );
    expect(all(off, "aws_cloudwatch_composite_alarm")).toEqual({});
    expect(
      Object.values(all(off, "aws_cloudwatch_metric_alarm")).filter((a) =>
        a.alarm_name.includes("heartbeat"),
      ),
    ).toEqual([]);
  });
});
