import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type { Construct } from "constructs";
import { ENV } from "../../functions/shared/contract";
import type { Cluster, Environment } from "../config";
import { IrsaRole, type OidcIssuer, STS_AUDIENCE } from "../constructs/irsa-role";
import type { RegionalResourceNames } from "../naming";
import { names } from "../naming";
import { distributorStatements } from "../policies";

export const PROCESSOR_NAME = "logrelay-processor";
export const HEARTBEAT_FILE = "/tmp/logrelay/alive";

/** The in-cluster distributor worker as a Kubernetes Deployment (validated against the k8s schema in tests). */
export function processorDeployment(
  namespace: string,
  cluster: Cluster,
  regional: RegionalResourceNames,
  image: string,
  replicas: number,
) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: PROCESSOR_NAME, namespace, labels: { "app.kubernetes.io/name": PROCESSOR_NAME } },
    spec: {
      replicas,
      selector: { matchLabels: { "app.kubernetes.io/name": PROCESSOR_NAME } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": PROCESSOR_NAME } },
        spec: {
          serviceAccountName: PROCESSOR_NAME,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" as const },
          },
          terminationGracePeriodSeconds: 120,
          containers: [
            {
              name: "processor",
              image,
              args: ["deliver", "--queue-url", regional.deliveryQueueUrl, "--heartbeat-file", HEARTBEAT_FILE],
              env: [
                { name: ENV.region, value: cluster.region },
                { name: ENV.configTable, value: regional.configTable },
                { name: ENV.ledgerTable, value: regional.ledgerTable },
                { name: ENV.ledgerTtlDays, value: String(regional.ledgerTtlDays) },
                { name: ENV.centralRoleArn, value: regional.centralRoleArn },
              ],
              resources: {
                requests: { cpu: "250m", memory: "256Mi" },
                limits: { cpu: "1", memory: "512Mi" },
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
  const keda = cluster.processor!.keda!;
  return [
    {
      apiVersion: "keda.sh/v1alpha1",
      kind: "TriggerAuthentication",
      metadata: { name: PROCESSOR_NAME, namespace },
      spec: { podIdentity: { provider: "aws", identityOwner: "workload" } },
    },
    {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: PROCESSOR_NAME, namespace },
      spec: {
        scaleTargetRef: { name: PROCESSOR_NAME },
        minReplicaCount: keda.min_replicas,
        maxReplicaCount: keda.max_replicas,
        triggers: [
          {
            type: "aws-sqs-queue",
            authenticationRef: { name: PROCESSOR_NAME },
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
export function processorRole(
  scope: Construct,
  env: Environment,
  cluster: Cluster,
  issuer: OidcIssuer,
  regional: RegionalResourceNames,
): IrsaRole {
  return new IrsaRole(scope, "processor", {
    // Matches the central role's trusted pattern logrelay-<env>-distributor-*.
    roleName: names(env.name).distributorRole(`k8s-${cluster.id}`).slice(0, 64),
    description: `logrelay distributor worker in cluster ${cluster.id}`,
    issuer,
    namespace: cluster.namespace,
    serviceAccount: PROCESSOR_NAME,
    statements: distributorStatements({
      queueArn: regional.deliveryQueueArn,
      stagingBucketArn: regional.stagingBucketArn,
      keyArn: `arn:aws:kms:${cluster.region}:${env.account_id}:key/*`,
      configTableArn: regional.configTableArn,
      ledgerTableArn: regional.ledgerTableArn,
      centralRoleArn: regional.centralRoleArn,
    }).map((s) =>
      s.Sid === "DecryptStagedObjectsAndMessages"
        ? {
            ...s,
            Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": `alias/${regional.prefix}` } },
          }
        : s,
    ),
  });
}

/** The worker's service account, Deployment and (with KEDA) its scaler, in the cluster. */
export function processorWorkload(
  scope: Construct,
  cluster: Cluster,
  role: IrsaRole,
  regional: RegionalResourceNames,
  namespace: string,
): void {
  const processor = cluster.processor!;
  const sa = new ServiceAccountV1(scope, "processor-sa", {
    metadata: {
      name: PROCESSOR_NAME,
      namespace,
      annotations: serviceAccountAnnotations(role.role.arn, cluster.oidc_audience),
    },
  });
  new Manifest(scope, "processor-deployment", {
    manifest: processorDeployment(namespace, cluster, regional, processor.image, processor.replicas),
    dependsOn: [sa],
  });
  if (processor.keda) {
    kedaObjects(namespace, cluster, regional).forEach((manifest, i) => {
      new Manifest(scope, `processor-keda-${i}`, { manifest });
    });
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
