import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/local-pipeline";
import { stackDirs, terraformEnv, terraformOk } from "../../scripts/terraform";

/** Real environments use the S3 backend; without credentials they are validated, not applied. */
describe("prod environment stacks", () => {
  const work = join(ROOT, ".tmp", `tf-validate-${process.pid}`);
  const outdir = join(work, "cdktf.out");

  beforeAll(() => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const synth = spawnSync(join(ROOT, "node_modules", ".bin", "cdktf"), ["synth", "--output", outdir], {
      cwd: ROOT,
      env: { ...process.env, LOGRELAY_ENVIRONMENTS: "prod", CHECKPOINT_DISABLE: "1", CI: "1" },
      encoding: "utf8",
    });
    if (synth.status !== 0) throw new Error(`cdktf synth failed:\n${synth.stdout}${synth.stderr}`);
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("every AWS stack passes terraform validate with the S3 backend configured", async () => {
    const env = terraformEnv(join(work, "terraform"));
    const dirs = stackDirs(outdir);
    expect(Object.keys(dirs).sort()).toEqual([
      "logrelay-prod-cluster-eks-prod-euw1-a",
      "logrelay-prod-cluster-rosa-prod-use1-a",
      "logrelay-prod-eu-west-1",
      "logrelay-prod-global",
      "logrelay-prod-us-east-1",
    ]);
    // Cluster stacks also need the kubernetes and helm providers, which are not installed
    // offline: they are tested at synth level (test/unit/collector), their AWS side in emulator mode.
    const awsOnly = Object.entries(dirs).filter(([name]) => !name.includes("-cluster-"));
    for (const [name, dir] of Object.entries(dirs)) {
      const providers = Object.keys(require(join(dir, "cdk.tf.json")).terraform.required_providers).sort();
      expect([name, providers]).toEqual([
        name,
        name.includes("-cluster-") ? ["aws", "helm", "kubernetes"] : ["aws"],
      ]);
    }
    for (const [, dir] of awsOnly) {
      await terraformOk(dir, ["init", "-backend=false", "-input=false"], env);
      const result = await terraformOk(dir, ["validate"], env);
      expect(result.output).toContain("Success! The configuration is valid.");
    }
    const regional = require(join(dirs["logrelay-prod-us-east-1"]!, "cdk.tf.json"));
    expect(regional.terraform.backend.s3).toMatchObject({
      bucket: "logrelay-prod-terraform-state",
      key: "logrelay/logrelay-prod-us-east-1.tfstate",
      encrypt: true,
      use_lockfile: true,
    });
  }, 120_000);

  it("the Helm values of every cluster stack reach Helm exactly as generated (Terraform's own reading)", async () => {
    const dirs = stackDirs(outdir);
    const env = terraformEnv(join(work, "terraform"));
    const { ClusterStack } = await import("../../stacks/cluster-stack");
    const { loadEnvironments } = await import("../../stacks/config");
    const { App } = await import("cdktf");
    const { stringify } = await import("yaml");
    const prod = loadEnvironments(join(ROOT, "environments"), "prod")[0]!;
    for (const cluster of prod.clusters) {
      const name = `logrelay-prod-cluster-${cluster.id}`;
      const synthesized = require(join(dirs[name]!, "cdk.tf.json"));
      const [release] = Object.values(synthesized.resource.helm_release) as { values: string[] }[];
      // Terraform evaluates the string as it would for the helm provider: a root module with only an output.
      const dir = join(work, "literal", cluster.id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, "main.tf.json"),
        JSON.stringify({ output: { values: { value: release!.values[0] } } }),
      );
      await terraformOk(dir, ["init", "-input=false"], env);
      await terraformOk(dir, ["apply", "-auto-approve", "-input=false"], env);
      const { output } = await terraformOk(dir, ["output", "-raw", "values"], env);
      const generated = new ClusterStack(new App({ outdir: join(work, "literal-synth") }), prod, cluster)
        .values;
      expect(output).toBe(stringify(generated, { aliasDuplicateObjects: false }));
      expect(output).toContain('"${LOGRELAY_CLUSTER_ID}"');
    }
  }, 120_000);
});
