import { DistributorSettingsSchema, loadSettings } from "../../../functions/distributor/settings";
import { ClusterStack } from "../../../stacks/cluster-stack";
import { LEFT_AT_DEFAULT } from "../../../stacks/distributor-environment";
import { RegionalStack } from "../../../stacks/regional-stack";
import { all, env, named, synth, testApp } from "../../harness/synth";

/** Set by the platform, not by logrelay: the construct sizes V8; Lambda sets AWS_REGION itself. */
const RUNTIME_VARIABLES = ["NODE_OPTIONS"];

const environment = (ingestion: Record<string, unknown>) =>
  env({
    ...ingestion,
    tenant_freshness: [{ tenant_id: "acme", max_p99_seconds: 600 }],
    distributor: { log_level: "DEBUG" },
    clusters: [
      {
        id: "rosa-1",
        region: "us-east-1",
        oidc_issuer_url: "https://oidc.example.com/rosa-1",
        distributor: { image: "registry.example.com/logrelay/distributor:1" },
      },
    ],
  });

/** What each deployer gives the distributor: the Lambda's variables and the in-cluster worker's. */
function deployed(ingestion: Record<string, unknown>) {
  const e = environment(ingestion);
  const regional = synth(new RegionalStack(testApp(), e, "us-east-1"));
  const lambda = named(regional, "aws_lambda_function", "function_name", "-distributor").environment
    .variables as Record<string, string>;
  const cluster = synth(new ClusterStack(testApp(), e, e.clusters[0]!));
  const deployment = Object.values(all(cluster, "kubernetes_manifest"))
    .map((m) => m.manifest)
    .find((m) => m.kind === "Deployment");
  const pod = Object.fromEntries(
    (deployment.spec.template.spec.containers[0].env as { name: string; value: string }[]).map((v) => [
      v.name,
      v.value,
    ]),
  );
  const drop = (vars: Record<string, string>) =>
    Object.fromEntries(Object.entries(vars).filter(([k]) => !RUNTIME_VARIABLES.includes(k)));
  const lambdaVars: Record<string, string> = { ...drop(lambda), AWS_REGION: "us-east-1" };
  return { lambda: lambdaVars, pod: drop(pod) as Record<string, string> };
}

const schemaKeys = Object.keys(DistributorSettingsSchema.shape).sort();
const variants = {
  "direct-s3": deployed({}),
  "firehose json": deployed({ ingestion: "firehose", firehose: { format: "json" } }),
  "firehose parquet": deployed({ ingestion: "firehose", firehose: { format: "parquet" } }),
};

describe("the distributor's environment: one builder for the Lambda and the in-cluster worker", () => {
  it.each(Object.entries(variants))("%s: both deployers set the same variables", (_name, { lambda, pod }) => {
    expect(Object.keys(pod).sort()).toEqual(Object.keys(lambda).sort());
  });

  it.each(Object.entries(variants))(
    "%s: every variable set is one the distributor reads",
    (_name, { lambda, pod }) => {
      for (const vars of [lambda, pod])
        expect(Object.keys(vars).filter((k) => !schemaKeys.includes(k))).toEqual([]);
    },
  );

  it.each(Object.entries(variants))(
    "%s: what each deploys passes the distributor's settings schema",
    (_name, { lambda, pod }) => {
      expect(() => loadSettings(lambda)).not.toThrow();
      const settings = loadSettings(pod);
      expect(settings.POWERTOOLS_LOG_LEVEL).toBe("DEBUG");
      expect(settings.METERED_TENANTS).toEqual(new Set(["acme"]));
    },
  );

  it("every setting the distributor reads is set by the stacks or left at a default said why", () => {
    const set = new Set(Object.values(variants).flatMap(({ lambda }) => Object.keys(lambda)));
    const unaccounted = schemaKeys.filter((k) => !set.has(k) && !(k in LEFT_AT_DEFAULT));
    expect(unaccounted).toEqual([]);
    // And the list names only settings that exist and that no stack sets.
    for (const k of Object.keys(LEFT_AT_DEFAULT)) {
      expect(schemaKeys).toContain(k);
      expect(set.has(k)).toBe(false);
    }
  });

  it("the Parquet cap follows each process's memory", () => {
    const { lambda, pod } = variants["firehose parquet"];
    expect(lambda.MAX_PARALLEL_DELIVERIES).toBe("10"); // 1,024 MB: (1024 - 192) / 80
    expect(pod.MAX_PARALLEL_DELIVERIES).toBe("4"); // 512 MiB: (512 - 192) / 80
  });
});
