import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Running terraform offline: the hashicorp/aws provider comes from a filesystem mirror on the
 * machine (found here, or named by LOGRELAY_TF_PLUGIN_MIRROR), never from a registry.
 */
export const AWS_PROVIDER = { source: "registry.terraform.io/hashicorp/aws", version: "5.100.0" };

export const TERRAFORM_INSTALL_HINT =
  "terraform was not found on PATH. Install Terraform 1.11 (https://developer.hashicorp.com/terraform/install) and make sure `terraform version` works.";

const CANDIDATE_ROOTS = [
  "/opt/tf-plugins",
  join(homedir(), ".terraform.d", "plugins"),
  join(homedir(), ".local", "share", "terraform", "plugins"),
  "/usr/local/share/terraform/plugins",
  "/usr/share/terraform/plugins",
];

const hasAwsProvider = (root: string) =>
  existsSync(join(root, "registry.terraform.io", "hashicorp", "aws", AWS_PROVIDER.version));

/**
 * The mirror when the machine has one (offline machines, CI images), else undefined: terraform
 * then installs providers from the registry into a shared plugin cache (see deployTerraformEnv).
 */
export function providerMirrorIfAny(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    return findProviderMirror(env);
  } catch (error) {
    if (env.LOGRELAY_TF_PLUGIN_MIRROR) throw error;
    return undefined;
  }
}

/** The mirror root (the folder holding registry.terraform.io) with hashicorp/aws 5.100.0. */
export function findProviderMirror(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.LOGRELAY_TF_PLUGIN_MIRROR;
  if (override) {
    if (!hasAwsProvider(override)) {
      throw new Error(
        `LOGRELAY_TF_PLUGIN_MIRROR=${override} holds no registry.terraform.io/hashicorp/aws/${AWS_PROVIDER.version}`,
      );
    }
    return override;
  }
  for (const root of CANDIDATE_ROOTS) if (hasAwsProvider(root)) return root;
  // Last resort: a bounded search of the usual install places.
  const found = spawnSync(
    "sh",
    [
      "-c",
      "find /opt /usr/local /usr/share /root /home /var/lib -maxdepth 6 -type d -name registry.terraform.io 2>/dev/null",
    ],
    { encoding: "utf8" },
  );
  for (const dir of found.stdout.split("\n").filter(Boolean)) {
    const root = resolve(dir, "..");
    if (hasAwsProvider(root)) return root;
  }
  throw new Error(
    `no filesystem mirror of hashicorp/aws ${AWS_PROVIDER.version} found (looked in ${CANDIDATE_ROOTS.join(", ")} and searched /opt, /usr, /root, /home, /var/lib). ` +
      "Set LOGRELAY_TF_PLUGIN_MIRROR to the folder that holds registry.terraform.io.",
  );
}

/** Writes a Terraform CLI config that installs hashicorp/aws only from the mirror. */
export function writeCliConfig(dir: string, mirror = findProviderMirror()): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "terraformrc");
  writeFileSync(
    path,
    `provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(mirror)}
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
disable_checkpoint = true
`,
  );
  return path;
}

export function requireTerraform(env: NodeJS.ProcessEnv = process.env): string {
  const out = spawnSync("terraform", ["version", "-json"], { encoding: "utf8", env });
  if (out.error || out.status !== 0) throw new Error(TERRAFORM_INSTALL_HINT);
  return (JSON.parse(out.stdout) as { terraform_version: string }).terraform_version;
}

/** Terraform run by a program: no checkpoint calls, no prompts, output for automation. */
const UNATTENDED = { CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0" } as const;

/** Environment for terraform runs: mirror config, no checkpoint calls, no prompts; plus `extra`. */
export function terraformEnv(
  configDir: string,
  extra: Record<string, string> = {},
  base: NodeJS.ProcessEnv = process.env,
  mirror = findProviderMirror(base),
): NodeJS.ProcessEnv {
  return {
    ...base,
    TF_CLI_CONFIG_FILE: writeCliConfig(configDir, mirror),
    ...UNATTENDED,
    ...extra,
  };
}

/**
 * Environment for terraform runs of many stacks (`logrelay infra`): the mirror when there is one,
 * else a plugin cache shared by every stack, so a provider is downloaded once, not once per stack.
 */
export function fleetTerraformEnv(
  workDir: string,
  extra: Record<string, string>,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const mirror = providerMirrorIfAny(base);
  if (mirror) return terraformEnv(join(workDir, "terraform"), extra, base, mirror);
  const cache = base.TF_PLUGIN_CACHE_DIR ?? join(workDir, "plugin-cache");
  mkdirSync(cache, { recursive: true });
  return {
    ...base,
    TF_PLUGIN_CACHE_DIR: cache,
    ...UNATTENDED,
    ...extra,
  };
}

export interface TerraformResult {
  readonly code: number;
  readonly output: string;
}

/** Runs terraform in a stack directory; resolves with exit code and combined output. */
export function terraform(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<TerraformResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("terraform", [...args, "-no-color"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.on("data", (d: Buffer) => chunks.push(d));
    child.on("error", reject);
    child.on("close", (code) =>
      resolvePromise({ code: code ?? 1, output: Buffer.concat(chunks).toString() }),
    );
  });
}

/** Like `terraform`, but throws with terraform's own output when the exit code is not in `ok`. */
export async function terraformOk(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ok = [0],
): Promise<TerraformResult> {
  const result = await terraform(cwd, args, env);
  if (!ok.includes(result.code)) {
    throw new Error(
      `terraform ${args.join(" ")} in ${cwd} exited ${result.code}:\n${result.output.slice(-6000)}`,
    );
  }
  return result;
}

export async function outputs(cwd: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const { output } = await terraformOk(cwd, ["output", "-json"], env);
  const json = JSON.parse(output) as Record<string, { value: string }>;
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, v.value]));
}

export const stackDirs = (outdir: string) =>
  Object.fromEntries(readdirSync(join(outdir, "stacks")).map((s) => [s, join(outdir, "stacks", s)]));
