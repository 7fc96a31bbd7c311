import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DeliveryConfig } from "../functions/shared/delivery-config";
import { DeliveryConfigSchema } from "../functions/shared/delivery-config";
import { accountOfRoleArn } from "../functions/shared/patterns";
import type { Environment } from "../stacks/config";

/** Sample tenants for the local environment: acme to CloudWatch + S3, globex API logs to CloudWatch. */
export function sampleConfigs(env: Environment, roleArnOf: (tenant: string) => string): DeliveryConfig[] {
  const external = (tenant: string) => env.customers.find((c) => c.tenant_id === tenant)!.external_id;
  const acmeBucket = env.customers.find((c) => c.tenant_id === "acme")!.bucket!;
  const items = [
    {
      tenant_id: "acme",
      type: "cloudwatch",
      log_distribution_role_arn: roleArnOf("acme"),
      external_id: external("acme"),
      log_group_name: "/logrelay/acme",
    },
    {
      tenant_id: "acme",
      type: "s3",
      log_distribution_role_arn: roleArnOf("acme"),
      external_id: external("acme"),
      bucket_name: acmeBucket.name,
      bucket_prefix: acmeBucket.prefix,
      desired_logs: ["payment-service"],
    },
    {
      tenant_id: "globex",
      type: "cloudwatch",
      log_distribution_role_arn: roleArnOf("globex"),
      external_id: external("globex"),
      log_group_name: "/logrelay/globex",
      groups: ["API"],
    },
  ];
  // Written through the shared schema, like the API does.
  return items.map((i) => DeliveryConfigSchema.parse(i));
}

export async function putConfigs(
  db: DynamoDBDocumentClient,
  table: string,
  configs: DeliveryConfig[],
): Promise<void> {
  const now = new Date().toISOString();
  for (const c of configs) {
    await db.send(
      new PutCommand({ TableName: table, Item: { ...c, created_at: now, updated_at: now, version: 1 } }),
    );
  }
}

/** Registers each sample tenant for the account its configs name, as a platform admin would. */
export async function putRegistrations(
  db: DynamoDBDocumentClient,
  table: string,
  configs: DeliveryConfig[],
): Promise<void> {
  const accounts = new Map<string, Set<string>>();
  for (const c of configs) {
    const account = accountOfRoleArn(c.log_distribution_role_arn);
    accounts.set(c.tenant_id, (accounts.get(c.tenant_id) ?? new Set()).add(account));
  }
  const now = new Date().toISOString();
  for (const [tenant_id, set] of accounts) {
    await db.send(
      new PutCommand({ TableName: table, Item: { tenant_id, accounts: [...set], updated_at: now } }),
    );
  }
}

/** An event as the Vector collector writes it (see charts/vector and its VRL programs). */
export function collectorEvent(
  tenant: string,
  cluster: string,
  application: string,
  pod: string,
  message: string,
  at: Date,
) {
  return {
    message,
    timestamp: at.toISOString(),
    tenant_id: tenant,
    cluster_id: cluster,
    application,
    pod_name: pod,
    kubernetes: { namespace: `${tenant}-${application}`, pod_name: pod, container_name: application },
  };
}

export interface SampleObject {
  readonly key: string;
  readonly tenant: string;
  readonly application: string;
  readonly messages: string[];
}

/** Writes realistic gzipped NDJSON objects under tenant/cluster/application/pod/ keys. */
export async function writeSampleLogs(
  s3: S3Client,
  bucket: string,
  now = new Date(),
): Promise<SampleObject[]> {
  const plan = [
    {
      tenant: "acme",
      cluster: "rosa-prod-1",
      application: "payment-service",
      pod: "payment-service-7d9f8-x2k4q",
      n: 40,
    },
    { tenant: "acme", cluster: "rosa-prod-1", application: "kube-apiserver", pod: "kube-apiserver-0", n: 15 },
    {
      tenant: "globex",
      cluster: "rosa-prod-2",
      application: "kube-apiserver",
      pod: "kube-apiserver-1",
      n: 25,
    },
    { tenant: "globex", cluster: "rosa-prod-2", application: "checkout", pod: "checkout-5c6d7-abcde", n: 10 },
  ];
  const objects: SampleObject[] = [];
  for (const [i, p] of plan.entries()) {
    const messages = Array.from({ length: p.n }, (_, k) =>
      JSON.stringify({
        level: k % 7 === 0 ? "warn" : "info",
        msg: `${p.application} request ${k} handled`,
        latency_ms: (k * 37) % 250,
      }),
    );
    const events = messages.map((m, k) =>
      collectorEvent(
        p.tenant,
        p.cluster,
        p.application,
        p.pod,
        m,
        new Date(now.getTime() - (p.n - k) * 1000),
      ),
    );
    const key = `${p.tenant}/${p.cluster}/${p.application}/${p.pod}/${Math.floor(now.getTime() / 1000)}-${i}.log.gz`;
    const body = gzipSync(`${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: "application/x-ndjson",
        ContentEncoding: "gzip",
      }),
    );
    objects.push({ key, tenant: p.tenant, application: p.application, messages });
  }
  return objects;
}

/**
 * One heartbeat line as the heartbeat workload prints it (stacks/heartbeat.ts): the emit time to
 * the second, in UTC.
 */
export function heartbeatMessage(clusterId: string, series: string, seq: number, at: Date): string {
  return JSON.stringify({
    logrelay_heartbeat: 1,
    cluster_id: clusterId,
    series,
    seq,
    emitted_at: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
  });
}

/**
 * Writes one heartbeat object per cluster, as the collector ships its heartbeat pod's lines: the
 * last three heartbeats of a series, a minute apart, the newest now.
 */
export async function writeHeartbeats(
  s3: S3Client,
  bucket: string,
  tenant: string,
  clusters: readonly string[],
  now = new Date(),
): Promise<SampleObject[]> {
  const objects: SampleObject[] = [];
  for (const cluster of clusters) {
    const series = randomUUID();
    const pod = "logrelay-heartbeat-local";
    const beats = [1, 2, 3].map((seq) => {
      const at = new Date(Math.floor(now.getTime() / 1000) * 1000 - (3 - seq) * 60_000);
      return { message: heartbeatMessage(cluster, series, seq, at), at };
    });
    const events = beats.map((b) =>
      collectorEvent(tenant, cluster, "logrelay-heartbeat", pod, b.message, b.at),
    );
    const key = `${tenant}/${cluster}/logrelay-heartbeat/${pod}/${Math.floor(now.getTime() / 1000)}-${series}.log.gz`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: gzipSync(`${events.map((e) => JSON.stringify(e)).join("\n")}\n`),
        ContentType: "application/x-ndjson",
        ContentEncoding: "gzip",
      }),
    );
    objects.push({ key, tenant, application: "logrelay-heartbeat", messages: beats.map((b) => b.message) });
  }
  return objects;
}
