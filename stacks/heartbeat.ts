import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { DynamodbTableItem } from "@cdktf/provider-aws/lib/dynamodb-table-item";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import type { Construct } from "constructs";
import type { Cluster, Environment } from "./config";
import type { CustomerRoleSpec } from "./customer-role";
import {
  centralRoleArn,
  heartbeatExternalId,
  heartbeatLogGroup,
  heartbeatLogGroupPrefix,
  heartbeatRoleArn,
  heartbeatRoleName,
  PROJECT,
} from "./naming";

/** Name (and `app.kubernetes.io/name` label) of the heartbeat's Deployment; the collector selects it. */
export const HEARTBEAT_NAME = `${PROJECT}-heartbeat`;

/**
 * What the heartbeat prints, one JSON line every interval (operators read it too):
 * `{"logrelay_heartbeat":1,"cluster_id":"rosa-1","series":"<uuid>","seq":42,"emitted_at":"2026-12-06T21:15:35Z"}`.
 * `series` is new at every start of the container, `seq` counts from 1 within it, so a gap in
 * `seq` is a heartbeat lost on the way. POSIX sh with busybox's `date` and `sleep`.
 */
export const HEARTBEAT_SCRIPT = [
  "series=$(cat /proc/sys/kernel/random/uuid)",
  "seq=0",
  "while :; do",
  "  seq=$((seq + 1))",
  `  printf '{"logrelay_heartbeat":1,"cluster_id":"%s","series":"%s","seq":%d,"emitted_at":"%s"}\\n' "$LOGRELAY_CLUSTER_ID" "$series" "$seq" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"`,
  '  sleep "$LOGRELAY_HEARTBEAT_INTERVAL"',
  "done",
].join("\n");

/**
 * The heartbeat Deployment: one replica, Pod Security `restricted` (non-root, read-only root,
 * no capabilities, seccomp), no service account token, tiny requests.
 */
export function heartbeatDeployment(env: Environment, cluster: Cluster) {
  const labels = { "app.kubernetes.io/name": HEARTBEAT_NAME, "app.kubernetes.io/managed-by": PROJECT };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: HEARTBEAT_NAME, namespace: env.heartbeat.namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": HEARTBEAT_NAME } },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            runAsGroup: 65534,
            seccompProfile: { type: "RuntimeDefault" as const },
          },
          containers: [
            {
              name: "heartbeat",
              image: env.heartbeat.image,
              command: ["/bin/sh", "-c", HEARTBEAT_SCRIPT],
              env: [
                { name: "LOGRELAY_CLUSTER_ID", value: cluster.id },
                { name: "LOGRELAY_HEARTBEAT_INTERVAL", value: String(env.heartbeat.interval_seconds) },
              ],
              resources: {
                requests: { cpu: "5m", memory: "8Mi" },
                limits: { cpu: "50m", memory: "32Mi" },
              },
              securityContext: {
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  };
}

/** The heartbeat's namespace (Pod Security `restricted`) and Deployment in a cluster. */
export function heartbeatWorkload(scope: Construct, env: Environment, cluster: Cluster): void {
  const ns = new NamespaceV1(scope, "heartbeat-namespace", {
    metadata: {
      name: env.heartbeat.namespace,
      labels: {
        "app.kubernetes.io/managed-by": PROJECT,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      },
    },
  });
  new Manifest(scope, "heartbeat-deployment", {
    manifest: heartbeatDeployment(env, cluster),
    dependsOn: [ns],
  });
}

/** The heartbeat tenant's role in the platform's own account (global stack), as a customer's would be. */
export function heartbeatRoleSpec(env: Environment): CustomerRoleSpec {
  return {
    tenantId: env.heartbeat.tenant_id,
    accountId: env.account_id,
    externalId: heartbeatExternalId(env),
    centralRoleArn: centralRoleArn(env),
    logGroupPrefix: heartbeatLogGroupPrefix(env),
    roleName: heartbeatRoleName(env),
  };
}

/** The heartbeat tenant's registration and delivery config, as the tables store them. */
export function heartbeatItems(env: Environment, region: string) {
  const spec = heartbeatRoleSpec(env);
  return {
    registration: { tenant_id: env.heartbeat.tenant_id, accounts: [env.account_id] },
    config: {
      tenant_id: env.heartbeat.tenant_id,
      type: "cloudwatch" as const,
      enabled: true,
      desired_logs: [],
      groups: [],
      log_distribution_role_arn: heartbeatRoleArn(env),
      external_id: spec.externalId,
      log_group_name: heartbeatLogGroup(env, region),
      version: 1,
    },
  };
}

/** DynamoDB's typed JSON of a plain item (strings, numbers, booleans, lists). */
function typed(item: Record<string, unknown>): Record<string, unknown> {
  const value = (v: unknown): Record<string, unknown> =>
    typeof v === "string"
      ? { S: v }
      : typeof v === "number"
        ? { N: String(v) }
        : typeof v === "boolean"
          ? { BOOL: v }
          : { L: (v as unknown[]).map(value) };
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, value(v)]));
}

/**
 * The heartbeat's destination in a region: its log group in the platform's account (retention and
 * KMS like the platform's own), and the tenant registered to that account only, with its config:
 * data the stack owns, so drift shows when someone changes it.
 */
export function heartbeatDestination(
  scope: Construct,
  env: Environment,
  region: string,
  r: {
    readonly configTable: DynamodbTable;
    readonly registryTable: DynamodbTable;
    readonly kmsKey: { readonly arn: string };
  },
): CloudwatchLogGroup {
  const group = new CloudwatchLogGroup(scope, "heartbeat-log-group", {
    name: heartbeatLogGroup(env, region),
    retentionInDays: env.log_retention_days,
    kmsKeyId: r.kmsKey.arn,
  });
  const { registration, config } = heartbeatItems(env, region);
  new DynamodbTableItem(scope, "heartbeat-registration", {
    tableName: r.registryTable.name,
    hashKey: r.registryTable.hashKey,
    item: JSON.stringify(typed(registration)),
  });
  new DynamodbTableItem(scope, "heartbeat-config", {
    tableName: r.configTable.name,
    hashKey: r.configTable.hashKey,
    rangeKey: r.configTable.rangeKey,
    item: JSON.stringify(typed(config)),
  });
  return group;
}
