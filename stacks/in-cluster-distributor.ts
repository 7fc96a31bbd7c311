import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type { Construct } from "constructs";
import { type Cluster, DISTRIBUTOR_SERVICE_ACCOUNT, type Environment } from "./config";
import { idFrom } from "./constructs/addresses";
import { IrsaRole, type OidcIssuer, STS_AUDIENCE } from "./constructs/irsa-role";
import { functionNodeOptions } from "./constructs/nodejs-function";
import { distributorEnvironment } from "./distributor-environment";
import { names, type RegionalResourceNames } from "./naming";
import { distributorStatements } from "./policies";

/** Name of the worker's Kubernetes objects (Deployment, service account, scaler). */
export const DISTRIBUTOR_NAME = DISTRIBUTOR_SERVICE_ACCOUNT;
export const HEARTBEAT_FILE = "/tmp/logrelay/alive";
/** Kubernetes' grace after SIGTERM; the worker gives messages in hand 30 s less, then checkpoints. */
const TERMINATION_GRACE_SECONDS = 120;
/** The container's memory limit (MiB). */
const MEMORY_LIMIT_MB = 512;
/** The container's CPU limit (cores). */
const CPU_LIMIT = 1;

/** The in-cluster distributor worker as a Kubernetes Deployment (validated against the k8s schema in tests). */
export function distributorDeployment(
  env: Environment,
  namespace: string,
  cluster: Cluster,
  regional: RegionalResourceNames,
  image: string,
  replicas: number,
) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: DISTRIBUTOR_NAME, namespace, labels: { "app.kubernetes.io/name": DISTRIBUTOR_NAME } },
    spec: {
      replicas,
      selector: { matchLabels: { "app.kubernetes.io/name": DISTRIBUTOR_NAME } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": DISTRIBUTOR_NAME } },
        spec: {
          serviceAccountName: DISTRIBUTOR_NAME,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" as const },
          },
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          containers: [
            {
              name: "distributor",
              image,
              args: [
                "deliver",
                "--queue-url",
                regional.deliveryQueueUrl,
                "--heartbeat-file",
                HEARTBEAT_FILE,
                "--shutdown-grace-seconds",
                String(TERMINATION_GRACE_SECONDS - 30),
              ],
              env: [
                ...Object.entries(
                  distributorEnvironment(env, regional, {
                    memoryMb: MEMORY_LIMIT_MB,
                    region: cluster.region,
                  }),
                ).map(([name, value]) => ({ name, value })),
                // V8 sized to the container's limits, as for the Lambda functions.
                { name: "NODE_OPTIONS", value: functionNodeOptions(MEMORY_LIMIT_MB, CPU_LIMIT) },
              ],
              resources: {
                requests: { cpu: "250m", memory: "256Mi" },
                limits: { cpu: String(CPU_LIMIT), memory: `${MEMORY_LIMIT_MB}Mi` },
              },
              securityContext: {
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
              // The worker touches the heartbeat file after every receive (at most 20 s apart).
              livenessProbe: {
                exec: { command: ["sh", "-c", `test -n "$(find ${HEARTBEAT_FILE} -mmin -2 2>/dev/null)"`] },
                initialDelaySeconds: 60,
                periodSeconds: 30,
              },
              readinessProbe: { exec: { command: ["test", "-f", HEARTBEAT_FILE] }, periodSeconds: 10 },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    },
  };
}

/** KEDA: scale the worker on the delivery queue's depth, with the worker's own IRSA identity. */
export function kedaObjects(namespace: string, cluster: Cluster, regional: RegionalResourceNames) {
  const keda = cluster.distributor!.keda!;
  return [
    {
      apiVersion: "keda.sh/v1alpha1",
      kind: "TriggerAuthentication",
      metadata: { name: DISTRIBUTOR_NAME, namespace },
      spec: { podIdentity: { provider: "aws", identityOwner: "workload" } },
    },
    {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: DISTRIBUTOR_NAME, namespace },
      spec: {
        scaleTargetRef: { name: DISTRIBUTOR_NAME },
        minReplicaCount: keda.min_replicas,
        maxReplicaCount: keda.max_replicas,
        triggers: [
          {
            type: "aws-sqs-queue",
            authenticationRef: { name: DISTRIBUTOR_NAME },
            metadata: {
              queueURL: regional.deliveryQueueUrl,
              queueLength: String(keda.messages_per_replica),
              awsRegion: cluster.region,
            },
          },
        ],
      },
    },
  ];
}

/**
 * The in-cluster worker's IRSA role: named like the Lambda distributor roles, so the central
 * role trusts it, with the same least-privilege statements. Its key is not known in this stack:
 * KMS use is limited to keys behind the regional stack's alias.
 */
export function inClusterDistributorRole(
  scope: Construct,
  env: Environment,
  cluster: Cluster,
  issuer: OidcIssuer,
  regional: RegionalResourceNames,
): IrsaRole {
  return new IrsaRole(scope, "distributor", {
    // One of the exact principals the central role trusts (naming.ts, centralRoleCallers).
    roleName: names(env.name).inClusterDistributorRole(cluster.id),
    description: `logrelay distributor worker in cluster ${cluster.id}`,
    issuer,
    namespace: cluster.distributor!.namespace,
    serviceAccount: DISTRIBUTOR_NAME,
    statements: distributorStatements({
      queueArn: regional.deliveryQueueArn,
      stagingBucketArn: regional.stagingBucketArn,
      keyArn: `arn:aws:kms:${cluster.region}:${env.account_id}:key/*`,
      configTableArn: regional.configTableArn,
      registryTableArn: regional.registryTableArn,
      ledgerTableArn: regional.ledgerTableArn,
      centralRoleArn: regional.centralRoleArn,
      alarmTopicArn: regional.alarmTopicArn,
      region: cluster.region,
    }).map((s) =>
      s.Sid === "DecryptStagedObjectsAndMessages" || s.Sid === "EncryptAnnouncements"
        ? {
            ...s,
            Condition: {
              ...s.Condition,
              "ForAnyValue:StringEquals": { "kms:ResourceAliases": `alias/${regional.prefix}` },
            },
          }
        : s,
    ),
  });
}

/** The worker's service account, Deployment and (with KEDA) its scaler, in the cluster. */
export function inClusterDistributorWorkload(
  scope: Construct,
  env: Environment,
  cluster: Cluster,
  role: IrsaRole,
  regional: RegionalResourceNames,
): void {
  const settings = cluster.distributor!;
  // Apart from the collector (root, hostPath, "privileged" namespace): a compromised agent on the
  // node cannot reach this role's token through a shared namespace.
  const ns = new NamespaceV1(scope, "distributor-namespace", {
    metadata: {
      name: settings.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "logrelay",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      },
    },
  });
  // Literal, not a reference: kubernetes_manifest needs the namespace at plan time (dependsOn orders it).
  const namespace = settings.namespace;
  const sa = new ServiceAccountV1(scope, "distributor-sa", {
    dependsOn: [ns],
    metadata: {
      name: DISTRIBUTOR_NAME,
      namespace,
      annotations: serviceAccountAnnotations(role.role.arn, cluster.oidc_audience),
    },
  });
  new Manifest(scope, "distributor-deployment", {
    manifest: distributorDeployment(env, namespace, cluster, regional, settings.image, settings.replicas),
    dependsOn: [ns, sa],
  });
  if (settings.keda) {
    for (const manifest of kedaObjects(namespace, cluster, regional))
      new Manifest(scope, `distributor-keda-${idFrom(manifest.kind)}`, { manifest, dependsOn: [ns] });
  }
}

/** IRSA annotations of a service account (the pod identity webhook reads them). */
export function serviceAccountAnnotations(roleArn: string, audience: string): Record<string, string> {
  return {
    "eks.amazonaws.com/role-arn": roleArn,
    "eks.amazonaws.com/sts-regional-endpoints": "true",
    ...(audience !== STS_AUDIENCE && { "eks.amazonaws.com/audience": audience }),
  };
}
