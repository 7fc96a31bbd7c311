import { runSimulation } from "@cloud-copilot/iam-simulate";
import { parse } from "yaml";
import { ClusterStack, COLLECTOR_SCC, collectorScc } from "../../../stacks/cluster-stack";
import { assertValidValues, vectorValues } from "../../../stacks/collector/vector-values";
import { irsaTrustPolicy } from "../../../stacks/constructs/irsa-role";
import { distributorDeployment, kedaObjects } from "../../../stacks/in-cluster-distributor";
import { regionalResourceNames } from "../../../stacks/naming";
import { all, env, only, synth, testApp } from "../../harness/synth";

// kubernetes-models validates objects against the Kubernetes OpenAPI schemas.
const k8s = require("kubernetes-models/v1") as typeof import("kubernetes-models/v1");
const apps = require("kubernetes-models/apps/v1") as typeof import("kubernetes-models/apps/v1");
const rbac =
  require("kubernetes-models/rbac.authorization.k8s.io/v1") as typeof import("kubernetes-models/rbac.authorization.k8s.io/v1");
const keda =
  require("@kubernetes-models/keda/keda.sh/v1alpha1") as typeof import("@kubernetes-models/keda/keda.sh/v1alpha1");

const ISSUER = "https://oidc.op1.openshiftapps.com/2f4k9a7c1b";
const cluster = (extra: Record<string, unknown> = {}) => ({
  id: "rosa-prod-1",
  region: "us-east-1",
  oidc_issuer_url: ISSUER,
  ...extra,
});
const e = env({
  clusters: [
    cluster({
      openshift: true,
      priority_class: "system-node-critical",
      distributor: { image: "registry.example.com/logrelay/distributor:0.1.0", keda: { max_replicas: 5 } },
    }),
  ],
});
const json = synth(new ClusterStack(testApp(), e, e.clusters[0]!));
const stackOf = (overrides: Record<string, unknown>, c: Record<string, unknown> = {}) => {
  const x = env({ clusters: [cluster(c)], ...overrides });
  return synth(new ClusterStack(testApp(), x, x.clusters[0]!));
};
const collectorRole = (j: typeof json) =>
  Object.values(all(j, "aws_iam_role")).find((r) => r.name.includes("collector"));
/** The values as Terraform hands them to Helm: `$${` and `%%{` are Terraform's escapes (checked with terraform itself in test/integration/terraform-validate). */
const releaseValues = (j: typeof json) =>
  parse((only(j, "helm_release").values[0] as string).replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{"));

describe("ClusterStack: Terraform addresses", () => {
  it("names resources, never positions, and keeps the state of 0.1.0's addresses", () => {
    const moves = Object.fromEntries(
      ((json as unknown as { moved?: { from: string; to: string }[] }).moved ?? []).map((m) => [
        m.from,
        m.to,
      ]),
    );
    // What 0.1.0 synthesized for this cluster (the in-cluster distributor was "processor" then).
    expect(Object.keys(moves).sort()).toEqual([
      "aws_iam_role.processor_role_2630A70E",
      "aws_iam_role_policy.processor_inline_C268305B",
      "aws_iam_role_policy_attachment.collector_policy-0_F0BC4AF6",
      "kubernetes_manifest.processor-deployment",
      "kubernetes_manifest.processor-keda-0",
      "kubernetes_manifest.processor-keda-1",
      "kubernetes_service_account_v1.processor-sa",
    ]);
    expect(moves["aws_iam_role_policy_attachment.collector_policy-0_F0BC4AF6"]).toMatch(
      /^aws_iam_role_policy_attachment\.collector_policy-collector-writer_[0-9A-F]{8}$/,
    );
    expect(moves["kubernetes_manifest.processor-keda-0"]).toBe(
      "kubernetes_manifest.distributor-keda-triggerauthentication",
    );
    expect(moves["kubernetes_manifest.processor-keda-1"]).toBe(
      "kubernetes_manifest.distributor-keda-scaledobject",
    );
    const addresses = new Set(
      Object.entries(json.resource).flatMap(([type, rs]) => Object.keys(rs).map((k) => `${type}.${k}`)),
    );
    for (const to of Object.values(moves)) expect(addresses.has(to)).toBe(true);
  });

  it("reads the 0.1.0 setting name `processor` as `distributor`", () => {
    const legacy = env({ clusters: [cluster({ processor: { image: "img:1" } })] });
    expect(legacy.clusters[0]!.distributor).toEqual({
      image: "img:1",
      replicas: 1,
      namespace: "logrelay-distributor",
    });
  });
});

describe("ClusterStack: AWS side", () => {
  const role = collectorRole(json);

  it("creates the cluster's OIDC provider and an IRSA role only the collector's service account can assume", () => {
    expect(only(json, "aws_iam_openid_connect_provider")).toMatchObject({
      url: ISSUER,
      client_id_list: ["sts.amazonaws.com"],
    });
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([
      {
        Sid: "OnlyThisServiceAccount",
        Effect: "Allow",
        Principal: { Federated: "${aws_iam_openid_connect_provider.oidc-provider.arn}" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            "oidc.op1.openshiftapps.com/2f4k9a7c1b:sub": "system:serviceaccount:logrelay:logrelay-collector",
            "oidc.op1.openshiftapps.com/2f4k9a7c1b:aud": "sts.amazonaws.com",
          },
        },
      },
    ]);
  });

  it("tags the role with its cluster id and attaches the regional writer policy (own-cluster keys only)", () => {
    expect(role).toMatchObject({ path: "/logrelay/", tags: { "logrelay-cluster-id": "rosa-prod-1" } });
    expect(only(json, "aws_iam_role_policy_attachment").policy_arn).toBe(
      regionalResourceNames(e, "us-east-1").writerPolicyArn,
    );
  });

  it("uses an existing OIDC provider when one is named", () => {
    const arn = "arn:aws:iam::123456789012:oidc-provider/oidc.op1.openshiftapps.com/2f4k9a7c1b";
    const j = stackOf({}, { oidc_provider_arn: arn });
    expect(all(j, "aws_iam_openid_connect_provider")).toEqual({});
    expect(JSON.parse(collectorRole(j).assume_role_policy).Statement[0].Principal.Federated).toBe(arn);
  });

  it("a non-default audience reaches the provider, the trust policy and the service account", () => {
    const j = stackOf({}, { oidc_audience: "openshift" });
    expect(only(j, "aws_iam_openid_connect_provider").client_id_list).toEqual(["openshift"]);
    const condition = JSON.parse(collectorRole(j).assume_role_policy).Statement[0].Condition.StringEquals;
    expect(condition["oidc.op1.openshiftapps.com/2f4k9a7c1b:aud"]).toBe("openshift");
    const sa = only(j, "kubernetes_service_account_v1");
    expect(sa.metadata.annotations["eks.amazonaws.com/audience"]).toBe("openshift");
  });

  // The simulator knows OIDC condition keys only for the issuers in IAM's reference data:
  // accounts.google.com stands in for the cluster's issuer (the policy is built the same way).
  it("the IRSA trust admits the collector's service account with the right audience, nothing else (policy simulator)", async () => {
    const providerArn = "arn:aws:iam::123456789012:oidc-provider/accounts.google.com";
    const trust = JSON.parse(
      irsaTrustPolicy({ providerArn, url: "https://accounts.google.com" }, "logrelay", "logrelay-collector"),
    );
    const decide = async (sub: string, aud: string, principal = providerArn) => {
      const result = await runSimulation(
        {
          request: {
            principal,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: {
              resource: "arn:aws:iam::123456789012:role/logrelay/logrelay-test-collector-c1",
              accountId: "123456789012",
            },
            contextVariables: { "accounts.google.com:sub": sub, "accounts.google.com:aud": aud },
          },
          identityPolicies: [],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: trust,
        },
        {},
      );
      return (result as { overallResult: string }).overallResult;
    };
    const collector = "system:serviceaccount:logrelay:logrelay-collector";
    expect(await decide(collector, "sts.amazonaws.com")).toBe("Allowed");
    expect(await decide("system:serviceaccount:tenant-ns:default", "sts.amazonaws.com")).not.toBe("Allowed");
    expect(
      await decide("system:serviceaccount:logrelay-distributor:logrelay-distributor", "sts.amazonaws.com"),
    ).not.toBe("Allowed");
    expect(await decide(collector, "openshift")).not.toBe("Allowed");
    const otherCluster = "arn:aws:iam::123456789012:oidc-provider/oidc.other.example.com";
    expect(await decide(collector, "sts.amazonaws.com", otherCluster)).not.toBe("Allowed");
  });

  it("in emulator mode builds only the AWS side (no Kubernetes API there)", () => {
    const j = stackOf({ emulator: true }, { distributor: { image: "img:1" } });
    expect(Object.keys(j.resource).sort()).toEqual([
      "aws_iam_openid_connect_provider",
      "aws_iam_role",
      "aws_iam_role_policy",
      "aws_iam_role_policy_attachment",
    ]);
    expect(Object.keys(j.provider)).toEqual(["aws"]);
    expect(Object.keys(j.output ?? {}).sort()).toEqual(["collector_role_arn", "distributor_role_arn"]);
  });
});

describe("ClusterStack: Kubernetes side", () => {
  it("reaches the cluster through its kubeconfig context (default: the cluster id) and file", () => {
    expect(json.provider.kubernetes).toEqual([
      { config_path: "~/.kube/config", config_context: "rosa-prod-1" },
    ]);
    const j = stackOf({}, { kubeconfig_context: "admin@rosa", kubeconfig_path: "/ci/kubeconfig" });
    expect(j.provider.helm[0].kubernetes).toEqual({
      config_path: "/ci/kubeconfig",
      config_context: "admin@rosa",
    });
  });

  it("creates the namespace and the service account annotated with the role", () => {
    const ns = Object.values(all(json, "kubernetes_namespace_v1")).find(
      (n) => n.metadata.name === "logrelay",
    );
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    const sa = Object.values(all(json, "kubernetes_service_account_v1")).find(
      (s) => s.metadata.name === "logrelay-collector",
    );
    expect(sa.metadata.annotations).toEqual({
      "eks.amazonaws.com/role-arn": expect.stringMatching(
        /^\$\{aws_iam_role\.collector_role_[0-9A-F]+\.arn\}$/,
      ),
      "eks.amazonaws.com/sts-regional-endpoints": "true",
    });
    // The same objects, validated against the Kubernetes schemas.
    new k8s.Namespace({ metadata: { name: ns.metadata.name, labels: ns.metadata.labels } }).validate();
    new k8s.ServiceAccount({
      metadata: { name: sa.metadata.name, namespace: "logrelay", annotations: sa.metadata.annotations },
    }).validate();
  });

  it("installs the pinned upstream Vector chart as an agent with the generated values", () => {
    const release = only(json, "helm_release");
    expect(release).toMatchObject({
      repository: "https://helm.vector.dev",
      chart: "vector",
      version: "0.57.0",
      namespace: "${kubernetes_namespace_v1.namespace.metadata[0].name}",
      atomic: true,
    });
    const values = releaseValues(json);
    assertValidValues(values);
    expect(values).toMatchObject({
      role: "Agent",
      serviceAccount: { create: false, name: "logrelay-collector" },
      podPriorityClassName: "system-node-critical",
    });
    expect(values.env).toEqual(
      expect.arrayContaining([
        { name: "LOGRELAY_CLUSTER_ID", value: "rosa-prod-1" },
        { name: "LOGRELAY_TENANT_LABEL", value: "logrelay.io/tenant-id" },
      ]),
    );
    expect(values.customConfig.sources.kubernetes).toEqual({
      type: "kubernetes_logs",
      extra_label_selector: "rosa_export_logs=true",
      extra_namespace_label_selector: "hypershift.openshift.io/hosted-control-plane=true",
      // The heartbeat's namespace is read by its own source only.
      extra_field_selector: "metadata.namespace!=logrelay-heartbeat",
    });
    expect(values.customConfig.sinks.staging).toMatchObject({
      type: "aws_s3",
      inputs: ["throttle_default"],
      bucket: "logrelay-test-us-east-1-123456789012-staging",
      // Helm evaluates customConfig with `tpl`: Vector's templates are escaped to reach Vector as written.
      key_prefix: '{{ print "{{ tenant_id }}/{{ cluster_id }}/{{ application }}/{{ pod_name }}/" }}',
      filename_extension: "log.gz",
      compression: "gzip",
      encoding: { codec: "json" },
      framing: { method: "newline_delimited" },
      buffer: { type: "disk", when_full: "block" },
      batch: { max_bytes: 10485760, timeout_secs: 300 },
      request: { retry_initial_backoff_secs: 1, retry_max_duration_secs: 60 },
      acknowledgements: { enabled: true },
      healthcheck: { enabled: false },
    });
    expect(values.customConfig.sinks.quarantine).toMatchObject({
      type: "aws_s3",
      inputs: ["split.quarantine"],
      key_prefix: '{{ print "_quarantine/{{ cluster_id }}/{{ logrelay_quarantine_reason }}/" }}',
      filename_extension: "quarantine",
    });
    expect(values.customConfig.sinks.prom_exporter).toMatchObject({
      type: "prometheus_exporter",
      inputs: ["internal_metrics", "quarantine_metrics"],
      address: "0.0.0.0:9598",
    });
    // The chart names each container port after its sink (kebab-case, 15 characters at most);
    // the PodMonitor scrapes the port named in podMonitor.port.
    const portNames = Object.keys(values.customConfig.sinks)
      .filter((k) => values.customConfig.sinks[k].address)
      .map((k) => k.replace(/_/g, "-").slice(0, 15));
    expect(portNames).toContain(values.podMonitor.port);
    expect(values.customConfig.transforms.logrelay.source).toContain("${LOGRELAY_CLUSTER_ID}");
  });

  it("leaves no Vector template for Helm's tpl to evaluate (only {{ print ... }} escapes)", () => {
    const text: string = only(json, "helm_release").values[0];
    const escapes = /\{\{ print "(?:[^"\\]|\\.)*" \}\}/g;
    // The staged key prefix (tenants' and the heartbeat's), the quarantine prefix and its metric
    // tag, the throttle's tenant key.
    expect(text.match(escapes)?.length).toBe(5);
    expect(text.replace(escapes, "")).not.toContain("{{");
  });

  it("holds no text Terraform would read as its own template (only references; no provider checks this offline)", () => {
    const text = JSON.stringify(json);
    const templates = [...text.matchAll(/(?<!\$)\$\{[^}]*\}|(?<!%)%\{/g)].map((m) => m[0]);
    expect(templates.filter((t) => !/^\$\{(aws_|kubernetes_|helm_|data\.)[\w.\-[\]]+\}$/.test(t))).toEqual(
      [],
    );
    expect(only(json, "helm_release").values[0]).toContain('"$${LOGRELAY_CLUSTER_ID}"');
  });

  it("runs the agent with least privilege: read-only root, no capabilities, no escalation, limits set", () => {
    const values = releaseValues(json);
    expect(values.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(values.resources.limits).toEqual({ cpu: "1", memory: "2Gi" });
    new k8s.Pod({
      metadata: { name: "vector-check" },
      spec: {
        priorityClassName: values.podPriorityClassName,
        securityContext: values.podSecurityContext,
        tolerations: values.tolerations,
        containers: [
          {
            name: "vector",
            image: "timberio/vector",
            securityContext: values.securityContext,
            resources: values.resources,
            env: values.env,
            livenessProbe: values.livenessProbe,
            readinessProbe: values.readinessProbe,
          },
        ],
      },
    }).validate();
  });

  it("rate-limits each tenant at the source: one throttle keyed by tenant, 60,000 events/min by default", () => {
    const { transforms, sinks } = releaseValues(json).customConfig;

    expect(transforms.throttle_default).toEqual({
      type: "throttle",
      inputs: ["split._unmatched"],
      // Helm's tpl renders this to Vector's template {{ tenant_id }}.
      key_field: '{{ print "{{ tenant_id }}" }}',
      threshold: 60000,
      window_secs: 60,
      internal_metrics: { emit_events_discarded_per_key: true },
    });
    expect(sinks.staging.inputs).toEqual(["throttle_default"]);
    // Quarantined events are not tenant data: never throttled by a tenant's budget.
    expect(sinks.quarantine.inputs).toEqual(["split.quarantine"]);
  });

  it("gives tenants with an override their own throttle, fed by a route on the tenant", () => {
    const j = stackOf(
      {},
      { tenant_rate_limit: { events_per_minute: 30000, overrides: { "big-bank": 600000, acme: 1200 } } },
    );
    const { transforms, sinks } = releaseValues(j).customConfig;

    expect(transforms.tenant_limits).toEqual({
      type: "route",
      inputs: ["split._unmatched"],
      reroute_unmatched: true,
      route: { acme: '.tenant_id == "acme"', "big-bank": '.tenant_id == "big-bank"' },
    });
    expect([transforms.throttle_default.inputs, transforms.throttle_default.threshold]).toEqual([
      ["tenant_limits._unmatched"],
      30000,
    ]);
    expect([transforms.throttle_big_bank.inputs, transforms.throttle_big_bank.threshold]).toEqual([
      ["tenant_limits.big-bank"],
      600000,
    ]);
    expect(transforms.throttle_acme.threshold).toBe(1200);
    expect(sinks.staging.inputs.sort()).toEqual(["throttle_acme", "throttle_big_bank", "throttle_default"]);
  });

  it("refuses an override for something that is not a tenant id, naming it", () => {
    expect(() => stackOf({}, { tenant_rate_limit: { overrides: { "Not A Tenant": 5 } } })).toThrow(
      /tenant_rate_limit/,
    );
  });

  it("offers alert rules with the PodMonitor: a tenant over its limit (per tenant), quarantined events", () => {
    const withMonitor = stackOf({}, { pod_monitor: true });
    const rules = Object.values(all(withMonitor, "kubernetes_manifest"))
      .map((m) => m.manifest)
      .find((m) => m.kind === "PrometheusRule");

    const alerts = rules.spec.groups[0].rules;
    expect(alerts.map((r: { alert: string }) => r.alert)).toEqual([
      "LogrelayTenantRateLimited",
      "LogrelayEventsQuarantined",
    ]);
    expect(alerts[0].expr).toBe(
      'sum by (key) (rate(vector_events_discarded_total{component_id=~"throttle_.+"}[5m])) > 0',
    );
    expect(
      Object.values(all(json, "kubernetes_manifest")).some((m) => m.manifest.kind === "PrometheusRule"),
    ).toBe(false);
  });

  it("passes the tolerations, resources and selectors knobs through", () => {
    const j = stackOf(
      {},
      {
        tolerations: [{ key: "dedicated", operator: "Equal", value: "infra", effect: "NoSchedule" }],
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
        pod_label_selector: "logging=enabled",
        tenant_label: "example.com/tenant",
        pod_monitor: true,
      },
    );
    const values = releaseValues(j);
    expect(values.podMonitor).toMatchObject({ enabled: true, port: "prom-exporter" });
    expect(releaseValues(json).podMonitor.enabled).toBe(false);
    expect(values.tolerations).toEqual([
      { key: "dedicated", operator: "Equal", value: "infra", effect: "NoSchedule" },
    ]);
    expect(values.resources.limits).toEqual({ cpu: "500m", memory: "1Gi" });
    expect(values.customConfig.sources.kubernetes.extra_label_selector).toBe("logging=enabled");
    expect(values.env).toContainEqual({ name: "LOGRELAY_TENANT_LABEL", value: "example.com/tenant" });
  });

  it("on OpenShift, adds an SCC granting only host-log reading, and lets only the collector use it", () => {
    const scc = Object.values(all(json, "kubernetes_manifest")).find(
      (m) => m.manifest.kind === "SecurityContextConstraints",
    );
    expect(scc.manifest).toEqual(collectorScc(COLLECTOR_SCC));
    expect(scc.manifest).toMatchObject({
      allowPrivilegedContainer: false,
      allowPrivilegeEscalation: false,
      allowHostNetwork: false,
      allowHostPID: false,
      requiredDropCapabilities: ["ALL"],
      readOnlyRootFilesystem: true,
      users: [],
      groups: [],
    });
    const role = only(json, "kubernetes_cluster_role_v1");
    expect(role.rule).toEqual([
      {
        api_groups: ["security.openshift.io"],
        resources: ["securitycontextconstraints"],
        resource_names: ["logrelay-collector"],
        verbs: ["use"],
      },
    ]);
    const binding = only(json, "kubernetes_cluster_role_binding_v1");
    expect(binding.subject).toEqual([
      { kind: "ServiceAccount", name: "logrelay-collector", namespace: "logrelay" },
    ]);
    new rbac.ClusterRole({
      metadata: { name: "logrelay-collector-scc" },
      rules: [
        {
          apiGroups: role.rule[0].api_groups,
          resources: role.rule[0].resources,
          resourceNames: role.rule[0].resource_names,
          verbs: role.rule[0].verbs,
        },
      ],
    }).validate();
  });

  it("plain Kubernetes clusters get no SCC", () => {
    const j = stackOf({});
    expect(all(j, "kubernetes_cluster_role_v1")).toEqual({});
    expect(
      Object.values(all(j, "kubernetes_manifest")).filter(
        (m) => m.manifest.kind === "SecurityContextConstraints",
      ),
    ).toEqual([]);
  });

  it("optionally runs the distributor worker as a non-root Deployment scaled by KEDA", () => {
    const manifests = Object.values(all(json, "kubernetes_manifest")).map((m) => m.manifest);
    const deployment = manifests.find(
      (m) => m.kind === "Deployment" && m.metadata.name === "logrelay-distributor",
    );
    expect(deployment.spec.template.spec.containers[0].args).toEqual([
      "deliver",
      "--queue-url",
      "https://sqs.us-east-1.amazonaws.com/123456789012/logrelay-test-us-east-1-delivery",
      "--heartbeat-file",
      "/tmp/logrelay/alive",
      // Within the pod's 120 s termination grace, with time left to checkpoint and release.
      "--shutdown-grace-seconds",
      "90",
    ]);
    new apps.Deployment(deployment).validate();
    // Parked destinations are announced on the regional alarm topic, like the Lambda does.
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({
      name: "ALARM_TOPIC_ARN",
      value: "arn:aws:sns:us-east-1:123456789012:logrelay-test-us-east-1-alarms",
    });
    // V8 sized to the container's 512 MiB and 1 CPU limits, as for the Lambda functions.
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({
      name: "NODE_OPTIONS",
      value: "--max-semi-space-size=8 --max-old-space-size=256 --v8-pool-size=1",
    });
    expect(deployment.spec.template.spec.containers[0].resources.limits.memory).toBe("512Mi");
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const scaled = manifests.find((m) => m.kind === "ScaledObject");
    expect(scaled.spec).toMatchObject({
      scaleTargetRef: { name: "logrelay-distributor" },
      maxReplicaCount: 5,
      triggers: [{ type: "aws-sqs-queue", authenticationRef: { name: "logrelay-distributor" } }],
    });
    // KEDA's own schemas (its CRDs).
    new keda.ScaledObject(scaled).validate();
    new keda.TriggerAuthentication(manifests.find((m) => m.kind === "TriggerAuthentication")).validate();
  });

  it("where objects are Parquet, the worker takes as many at once as its memory limit allows", () => {
    const c = {
      distributor: { image: "registry.example.com/logrelay/distributor:0.1.0", keda: { max_replicas: 5 } },
    };
    const container = (ingestion: Record<string, unknown>) => {
      const manifests = Object.values(all(stackOf(ingestion, c), "kubernetes_manifest")).map(
        (m) => m.manifest,
      );
      return manifests.find((m) => m.kind === "Deployment").spec.template.spec.containers[0];
    };
    const cap = (ingestion: Record<string, unknown>) =>
      (container(ingestion).env as { name: string; value: string }[]).find(
        (v) => v.name === "MAX_PARALLEL_DELIVERIES",
      )?.value;
    // 512 MiB: (512 - 192) / 80 = 4 deliveries of a 128 MiB row group; the same setting as the Lambda's.
    expect(cap({ ingestion: "firehose", firehose: { format: "parquet" } })).toBe("4");
    expect(cap({ ingestion: "firehose", firehose: { format: "json" } })).toBeUndefined();
    expect(cap({})).toBeUndefined();
    expect(container({ ingestion: "firehose", firehose: { format: "parquet" } }).args).not.toContain(
      "--concurrency",
    );
  });

  it("the worker's role is one the central role trusts and may only do what a distributor does", () => {
    const role = Object.values(all(json, "aws_iam_role")).find((r) => r.name.includes("distributor-k8s"));
    expect(role.name).toBe("logrelay-test-distributor-k8s-rosa-prod-1");
    const trust = JSON.parse(role.assume_role_policy).Statement[0].Condition.StringEquals;
    expect(trust["oidc.op1.openshiftapps.com/2f4k9a7c1b:sub"]).toBe(
      "system:serviceaccount:logrelay-distributor:logrelay-distributor",
    );
    const statements = JSON.parse(only(json, "aws_iam_role_policy").policy).Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).toEqual([
      "ConsumeDeliveryQueue",
      "ReadStagedObjects",
      "DecryptStagedObjectsAndMessages",
      "ReadTenantConfigs",
      "ReadTenantRegistry",
      "UseDeliveryLedger",
      "ListParkedDeliveries",
      "ReadStagingExpiry",
      "AnnounceParkedDestinations",
      "EncryptAnnouncements",
      "AssumeCentralRole",
    ]);
    expect(statements[2].Condition).toEqual({
      StringEquals: { "kms:ViaService": ["s3.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"] },
      "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/logrelay-test-us-east-1" },
    });
    // The key is named by wildcard here (another state owns it): only the regional key, only via SNS.
    expect(statements[9].Condition).toEqual({
      StringEquals: { "kms:ViaService": "sns.us-east-1.amazonaws.com" },
      "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/logrelay-test-us-east-1" },
    });
  });

  it("helpers produce schema-valid objects on their own", () => {
    const r = regionalResourceNames(e, "us-east-1");
    new apps.Deployment(distributorDeployment(e, "logrelay", e.clusters[0]!, r, "img:1", 2)).validate();
    expect(kedaObjects("logrelay", e.clusters[0]!, r).map((o) => o.kind)).toEqual([
      "TriggerAuthentication",
      "ScaledObject",
    ]);
  });
});

describe("collector values", () => {
  const base = {
    clusterId: "c1",
    region: "us-east-1",
    serviceAccountName: "sa",
    stagingBucket: "b-staging",
    heartbeat: { tenantId: "logrelay-heartbeat" },
  };

  it("runs the in-cluster distributor in a namespace of its own at Pod Security restricted", () => {
    const namespaces = Object.values(all(json, "kubernetes_namespace_v1")).map((n) => n.metadata);
    const own = namespaces.find((n) => n.name === "logrelay-distributor");
    expect(own.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
    });
    const manifests = Object.values(all(json, "kubernetes_manifest")).map((m) => m.manifest);
    const workload = manifests.filter(
      (m) =>
        ["Deployment", "ScaledObject", "TriggerAuthentication"].includes(m.kind) &&
        m.metadata.name === "logrelay-distributor",
    );
    expect(workload.map((m) => m.metadata.namespace)).toEqual(workload.map(() => "logrelay-distributor"));
    const sa = Object.values(all(json, "kubernetes_service_account_v1")).find(
      (s) => s.metadata.name === "logrelay-distributor",
    );
    expect(sa.metadata.namespace).toBe("logrelay-distributor");
    // What "restricted" asks of the pod: non-root, seccomp, no escalation, no capabilities.
    const pod = workload.find((m) => m.kind === "Deployment").spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("mounts only the pod log directory (read-only) and Vector's data dir, never the host's /var/lib", () => {
    const values = releaseValues(json);

    expect(values.defaultVolumes).toEqual([{ name: "var-log-pods", hostPath: { path: "/var/log/pods/" } }]);
    expect(values.defaultVolumeMounts).toEqual([
      { name: "var-log-pods", mountPath: "/var/log/pods/", readOnly: true },
    ]);
    const hostPaths = [
      ...values.defaultVolumes.map((v: { hostPath: { path: string } }) => v.hostPath.path),
      values.persistence.hostPath.path,
    ];
    // kubelet keeps every pod's projected service-account token under /var/lib/kubelet.
    for (const path of hostPaths) expect("/var/lib/kubelet/pods/x/volumes/".startsWith(path)).toBe(false);
    expect(() =>
      assertValidValues({
        ...values,
        defaultVolumes: [{ name: "var-lib", hostPath: { path: "/var/lib/" } }],
      }),
    ).toThrow(/\/defaultVolumes\/0\/hostPath\/path must be equal to one of the allowed values/);
  });

  it("refuses values that break the schema (e.g. a writable root filesystem)", () => {
    const values = vectorValues(base);
    expect(() =>
      assertValidValues({
        ...values,
        securityContext: { ...(values.securityContext as object), readOnlyRootFilesystem: false },
      }),
    ).toThrow(/\/securityContext\/readOnlyRootFilesystem must be equal to constant/);
    expect(() => assertValidValues({ ...values, role: "Aggregator" })).toThrow(
      /\/role must be equal to constant/,
    );
  });

  it("in firehose mode sends events to the stream (within PutRecordBatch limits), quarantine still to S3", () => {
    const values = vectorValues({ ...base, firehoseStreamName: "s-ingest" });
    const sinks = (values.customConfig as { sinks: Record<string, Record<string, unknown>> }).sinks;
    expect(sinks.staging).toMatchObject({
      type: "aws_kinesis_firehose",
      stream_name: "s-ingest",
      encoding: { codec: "json" },
      batch: { max_events: 500, max_bytes: 4_000_000 },
      acknowledgements: { enabled: true },
    });
    expect(sinks.quarantine).toMatchObject({
      type: "aws_s3",
      bucket: "b-staging",
      filename_extension: "quarantine",
    });
  });
});
