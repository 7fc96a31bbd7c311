import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
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

  it("every stack passes terraform validate with the S3 backend configured", async () => {
    const env = terraformEnv(join(work, "terraform"));
    const dirs = stackDirs(outdir);
    expect(Object.keys(dirs).sort()).toEqual([
      "logrelay-prod-eu-west-1",
      "logrelay-prod-global",
      "logrelay-prod-us-east-1",
    ]);
    for (const dir of Object.values(dirs)) {
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
});
