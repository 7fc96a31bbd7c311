import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import { Release } from "@cdktf/provider-helm/lib/release";
import { ClusterRoleBindingV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-binding-v1";
import { ClusterRoleV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-v1";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Aspects, TerraformOutput, TerraformStack, Token } from "cdktf";
import type { Construct } from "constructs";
import { stringify } from "yaml";
import { collectorAlertRules, vectorValues } from "./collector/vector-values";
import type { Cluster, Environment } from "./config";
import { IrsaRole, type OidcIssuer } from "./constructs/irsa-role";
import { heartbeatWorkload } from "./heartbeat";
import {
  inClusterDistributorRole,
  inClusterDistributorWorkload,
  serviceAccountAnnotations,
} from "./in-cluster-distributor";
import { AddressMigrations } from "./migrations";
import { CLUSTER_TAG, names, PROJECT, type RegionalResourceNames, regionalResourceNames } from "./naming";
import { awsProvider, configureBackend } from "./provider";

/** The upstream Vector chart; the version is pinned per cluster (`chart_version`). */
export const VECTOR_CHART = { repository: "https://helm.vector.dev", chart: "vector" };
export const COLLECTOR_RELEASE = `${PROJECT}-collector`;
export const COLLECTOR_SCC = `${PROJECT}-collector`;

/**
 * One cluster, one state. AWS side: the cluster's IAM OIDC provider (or an existing one) and the
 * collector's IRSA role, tagged with the cluster id, which the regional writer policy turns into
 * "only your own cluster's keys". Kubernetes side: namespace, service account, the Vector agent
 * (upstream chart, values generated from typed settings and charts/vector), an SCC on OpenShift,
 * and optionally the distributor worker.
 *
 * In emulator mode only the AWS side is built: the emulator has no Kubernetes API, and the
 * kubernetes and helm providers are not installed offline (the Kubernetes side is synth-tested).
 */
export class ClusterStack extends TerraformStack {
  readonly collector: IrsaRole;
  readonly issuer: OidcIssuer;
  /** The values passed to the Vector chart (undefined in emulator mode). */
  readonly values?: Record<string, unknown>;

  constructor(scope: Construct, env: Environment, cluster: Cluster) {
    const stackName = names(env.name).clusterStack(cluster.id);
    super(scope, stackName);
    configureBackend(this, env, stackName);
    Aspects.of(this).add(new AddressMigrations("cluster"));
    awsProvider(this, env, { region: cluster.region, stackKind: "cluster" });
    const regional = regionalResourceNames(env, cluster.region);

    const providerArn =
      cluster.oidc_provider_arn ??
      new IamOpenidConnectProvider(this, "oidc-provider", {
        url: cluster.oidc_issuer_url,
        clientIdList: [cluster.oidc_audience],
        tags: { [CLUSTER_TAG]: cluster.id },
      }).arn;
    this.issuer = { providerArn, url: cluster.oidc_issuer_url, audience: cluster.oidc_audience };

    this.collector = new IrsaRole(this, "collector", {
      roleName: `${PROJECT}-${env.name}-collector-${cluster.id}`.slice(0, 64),
      description: `logrelay collector (Vector) in cluster ${cluster.id}`,
      issuer: this.issuer,
      namespace: cluster.namespace,
      serviceAccount: cluster.service_account,
      managedPolicies: { "collector-writer": regional.writerPolicyArn },
      // The writer policy's only write scope: keys whose cluster segment is this tag.
      tags: { [CLUSTER_TAG]: cluster.id },
    });
    const distributor = cluster.distributor
      ? inClusterDistributorRole(this, env, cluster, this.issuer, regional)
      : undefined;

    new TerraformOutput(this, "collector_role_arn", { value: this.collector.role.arn });
    if (distributor) new TerraformOutput(this, "distributor_role_arn", { value: distributor.role.arn });
    if (env.emulator) return;

    const kubeconfig = {
      configPath: cluster.kubeconfig_path,
      configContext: cluster.kubeconfig_context ?? cluster.id,
    };
    new KubernetesProvider(this, "kubernetes", kubeconfig);
    new HelmProvider(this, "helm", { kubernetes: kubeconfig });
    const namespace = new NamespaceV1(this, "namespace", {
      metadata: {
        name: cluster.namespace,
        labels: {
          "app.kubernetes.io/managed-by": PROJECT,
          // hostPath volumes (the node's pod logs) are outside the baseline Pod Security profile.
          "pod-security.kubernetes.io/enforce": "privileged",
          "pod-security.kubernetes.io/warn": "privileged",
        },
      },
    });
    const serviceAccount = new ServiceAccountV1(this, "service-account", {
      metadata: {
        name: cluster.service_account,
        namespace: namespace.metadata.name,
        annotations: serviceAccountAnnotations(this.collector.role.arn, cluster.oidc_audience),
      },
      automountServiceAccountToken: true,
    });
    if (cluster.openshift) this.grantScc(cluster);

    this.values = vectorValues(collectorSettings(cluster, env, regional));
    new Release(this, "vector", {
      name: COLLECTOR_RELEASE,
      namespace: namespace.metadata.name,
      repository: VECTOR_CHART.repository,
      chart: VECTOR_CHART.chart,
      version: cluster.chart_version,
      values: [terraformLiteral(stringify(this.values, { aliasDuplicateObjects: false }))],
      atomic: true,
      wait: true,
      timeout: 600,
      dependsOn: [serviceAccount],
    });
    if (cluster.pod_monitor) {
      new Manifest(this, "collector-alerts", { manifest: collectorAlertRules(namespace.metadata.name) });
    }
    if (distributor) inClusterDistributorWorkload(this, env, cluster, distributor, regional);
    if (env.heartbeat.enabled) heartbeatWorkload(this, env, cluster);
  }

  /** OpenShift: the collector's service account (and nothing else) may use the collector SCC. */
  private grantScc(cluster: Cluster): void {
    new Manifest(this, "scc", { manifest: collectorScc(COLLECTOR_SCC) });
    const sccRole = new ClusterRoleV1(this, "scc-user", {
      metadata: { name: `${COLLECTOR_SCC}-scc` },
      rule: [
        {
          apiGroups: ["security.openshift.io"],
          resources: ["securitycontextconstraints"],
          resourceNames: [COLLECTOR_SCC],
          verbs: ["use"],
        },
      ],
    });
    new ClusterRoleBindingV1(this, "scc-binding", {
      metadata: { name: `${COLLECTOR_SCC}-scc` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: sccRole.metadata.name },
      subject: [{ kind: "ServiceAccount", name: cluster.service_account, namespace: cluster.namespace }],
    });
  }
}

/**
 * Text that Terraform must pass on unchanged. Terraform reads `${...}` and `%{...}` in strings as
 * its own templates; the values hold Vector's `${VAR}` interpolation, so both are escaped.
 */
export function terraformLiteral(text: string): string {
  if (Token.isUnresolved(text)) throw new Error("terraformLiteral: the text holds a Terraform reference");
  // Function replacers: in a replacement string "$$" would itself mean "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** The typed collector settings of a cluster (defaults come from charts/vector/values.yaml). */
export function collectorSettings(cluster: Cluster, env: Environment, regional: RegionalResourceNames) {
  return {
    clusterId: cluster.id,
    region: cluster.region,
    serviceAccountName: cluster.service_account,
    stagingBucket: regional.stagingBucket,
    ...(env.ingestion === "firehose" && { firehoseStreamName: regional.firehoseStreamName }),
    ...(cluster.pod_label_selector && { podLabelSelector: cluster.pod_label_selector }),
    ...(cluster.namespace_label_selector && { namespaceLabelSelector: cluster.namespace_label_selector }),
    ...(cluster.tenant_label && { tenantLabel: cluster.tenant_label }),
    ...(cluster.priority_class && { priorityClassName: cluster.priority_class }),
    podMonitor: cluster.pod_monitor,
    ...(cluster.tenant_rate_limit?.events_per_minute && {
      tenantEventsPerMinute: cluster.tenant_rate_limit.events_per_minute,
    }),
    ...(cluster.tenant_rate_limit && { tenantRateOverrides: cluster.tenant_rate_limit.overrides }),
    ...(cluster.tolerations && { tolerations: cluster.tolerations }),
    ...(cluster.resources && { resources: cluster.resources }),
    heartbeat: {
      tenantId: env.heartbeat.tenant_id,
      ...(env.heartbeat.enabled && {
        namespace: env.heartbeat.namespace,
        intervalSeconds: env.heartbeat.interval_seconds,
      }),
    },
  };
}

/**
 * OpenShift SCC for the collector: hostPath (the node's pod logs and Vector's data dir), any UID
 * (the log files are root-owned 0640), SELinux type spc_t (what reading container logs on RHCOS
 * needs), read-only root, every capability dropped, no privilege, no host network/PID/IPC/ports.
 */
export function collectorScc(name: string): Record<string, unknown> {
  return {
    apiVersion: "security.openshift.io/v1",
    kind: "SecurityContextConstraints",
    metadata: { name },
    allowHostDirVolumePlugin: true,
    allowHostIPC: false,
    allowHostNetwork: false,
    allowHostPID: false,
    allowHostPorts: false,
    allowPrivilegeEscalation: false,
    allowPrivilegedContainer: false,
    allowedCapabilities: [],
    defaultAddCapabilities: [],
    requiredDropCapabilities: ["ALL"],
    readOnlyRootFilesystem: true,
    runAsUser: { type: "RunAsAny" },
    seLinuxContext: { type: "MustRunAs", seLinuxOptions: { type: "spc_t" } },
    fsGroup: { type: "RunAsAny" },
    supplementalGroups: { type: "RunAsAny" },
    seccompProfiles: ["runtime/default"],
    forbiddenSysctls: ["*"],
    volumes: ["configMap", "downwardAPI", "emptyDir", "hostPath", "projected", "secret"],
    users: [],
    groups: [],
  };
}
