import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { DeleteObjectsCommand, ListObjectVersionsCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  defaultParallelism,
  type FleetStack,
  type InfraAction,
  runFleet,
  type StackReport,
} from "../cli/infra";
import { environmentStacks } from "../stacks/app";
import { type Environment, loadEnvironmentFile } from "../stacks/config";
import { names } from "../stacks/naming";
import { outputs, terraform, terraformEnv, terraformOk } from "./terraform";

/**
 * An emulator environment (environments/local.json by default) as Terraform stacks applied into moto:
 * used by `npm start` and by the integration tests, so both exercise the same path.
 */
export const ROOT = resolve(__dirname, "..");

export interface LocalWorkspace {
  readonly env: Environment;
  readonly outdir: string;
  readonly stateDir: string;
  readonly tfEnv: NodeJS.ProcessEnv;
  readonly stacks: { global: string; regional: string; customers: string[]; clusters: string[] };
  dir(stack: string): string;
}

export function localWorkspace(
  workDir: string,
  endpoint: string,
  awsEnv: Record<string, string>,
  envName = "local",
): LocalWorkspace {
  const env = loadEnvironmentFile(join(ROOT, "environments", `${envName}.json`));
  if (!env.emulator) throw new Error(`environments/${envName}.json is not an emulator environment`);
  const n = names(env.name);
  const outdir = join(workDir, "cdktf.out");
  const stateDir = join(workDir, "state");
  mkdirSync(stateDir, { recursive: true });
  return {
    env,
    outdir,
    stateDir,
    tfEnv: terraformEnv(join(workDir, "terraform"), { ...awsEnv, AWS_ENDPOINT_URL: endpoint }),
    stacks: {
      global: n.globalStack,
      regional: n.regionStack(env.regions[0]!),
      customers: env.customers.map((c) => n.customerStack(c.tenant_id)),
      clusters: env.clusters.map((c) => n.clusterStack(c.id)),
    },
    dir: (stack) => join(outdir, "stacks", stack),
  };
}

/** `cdktf synth` of the local environment, with state kept in the workspace. */
export function synthLocal(ws: LocalWorkspace): Promise<void> {
  rmSync(ws.outdir, { recursive: true, force: true });
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "cdktf"), ["synth", "--output", ws.outdir], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOGRELAY_ENVIRONMENTS: ws.env.name,
        LOGRELAY_STATE_DIR: ws.stateDir,
        CHECKPOINT_DISABLE: "1",
        CI: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => out.push(d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`cdktf synth exited ${code}:\n${Buffer.concat(out).toString()}`)),
    );
  });
}

export type Step = (message: string) => void;

/** The workspace's stacks as `logrelay infra` runs them: synthesized folders, declared order. */
export function workspaceStacks(ws: LocalWorkspace): FleetStack[] {
  return environmentStacks(ws.env).map((s) => ({
    name: s.name,
    dir: ws.dir(s.name),
    dependsOn: s.dependsOn,
  }));
}

const runAll = async (ws: LocalWorkspace, action: InfraAction, step: Step): Promise<StackReport[]> =>
  runFleet(action, workspaceStacks(ws), {
    parallelism: defaultParallelism(),
    terraform: (dir, args) => terraform(dir, args, ws.tfEnv),
    progress: step,
  });

/**
 * `logrelay infra deploy` of every local stack: global first, then regional and customers, then
 * clusters (their roles attach the regional writer policy), as many at a time as the machine holds.
 */
export async function applyLocal(ws: LocalWorkspace, step: Step = () => {}): Promise<void> {
  const failed = (await runAll(ws, "deploy", step)).filter((r) => r.result !== "applied");
  if (failed.length > 0)
    throw new Error(`terraform apply failed:\n${failed.map((r) => `${r.stack}: ${r.error}`).join("\n")}`);
}

/** `logrelay infra plan` of every local stack: each report says what a deploy would change. */
export function planLocal(ws: LocalWorkspace, step: Step = () => {}): Promise<StackReport[]> {
  return runAll(ws, "plan", step);
}

export interface LocalOutputs {
  readonly regional: Record<string, string>;
  readonly customers: Record<string, Record<string, string>>;
}

export async function localOutputs(ws: LocalWorkspace): Promise<LocalOutputs> {
  const customers: Record<string, Record<string, string>> = {};
  for (const [i, c] of ws.env.customers.entries())
    customers[c.tenant_id] = await outputs(ws.dir(ws.stacks.customers[i]!), ws.tfEnv);
  return { regional: await outputs(ws.dir(ws.stacks.regional), ws.tfEnv), customers };
}

/** Deletes every object version and delete marker (terraform destroy can loop on keys with + or %). */
export async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      ...(v.VersionId && v.VersionId !== "null" && { VersionId: v.VersionId }),
    }));
    if (objects.length === 0) return deleted;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
    deleted += objects.length;
  }
}

/** Empties the buckets, then destroys clusters, then customers and regional (in parallel), then global. */
export async function destroyLocal(
  ws: LocalWorkspace,
  buckets: { client: S3Client; name: string }[],
  step: Step = () => {},
) {
  for (const b of buckets) await emptyBucket(b.client, b.name).catch(() => 0);
  const destroy = async (stack: string) => {
    await terraformOk(ws.dir(stack), ["destroy", "-auto-approve", "-input=false"], ws.tfEnv);
    step(`destroyed ${stack}`);
  };
  await Promise.all(ws.stacks.clusters.map(destroy));
  await Promise.all([destroy(ws.stacks.regional), ...ws.stacks.customers.map(destroy)]);
  await destroy(ws.stacks.global);
}
