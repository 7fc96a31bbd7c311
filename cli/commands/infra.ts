import { join, resolve } from "node:path";
import type { Command } from "commander";
import { minimatch } from "minimatch";
import type { StackSpec } from "../../stacks/app";
import { environmentOption, numberOption, type OutputFormat, outputOption, structured } from "../context";
import {
  defaultParallelism,
  type FleetStack,
  type InfraAction,
  passed,
  runFleet,
  type StackReport,
} from "../infra";
import { CliError, type CliIo, table } from "../io";

interface InfraOptions {
  environment: string;
  stacks: string;
  parallelism?: string;
  outdir: string;
  stateDir: string;
  allowDestroy?: boolean;
  output: OutputFormat;
}

/** Stacks whose full name (logrelay-prod-customer-acme) or short name (customer-acme) match the glob. */
export function selectStacks(specs: StackSpec[], glob: string, envName: string): StackSpec[] {
  const prefix = `logrelay-${envName}-`;
  const chosen = specs.filter(
    (s) =>
      minimatch(s.name, glob) || (s.name.startsWith(prefix) && minimatch(s.name.slice(prefix.length), glob)),
  );
  if (chosen.length === 0) {
    const shown = specs.slice(0, 8).map((s) => s.name);
    throw new CliError(
      `--stacks ${JSON.stringify(glob)} matches none of the ${specs.length} stacks of ${envName} ` +
        `(${shown.join(", ")}${specs.length > shown.length ? ", ..." : ""}); e.g. --stacks 'customer-*'`,
      2,
    );
  }
  return chosen;
}

const DESCRIPTIONS: Record<InfraAction, string> = {
  plan: "terraform plan of the selected stacks: what a deploy would add, change and destroy",
  drift:
    "which stacks and resources were changed outside Terraform (their state says otherwise); exit 2 if any",
  deploy:
    "terraform apply of the selected stacks in the declared order (global, regions and customers, clusters)",
};

function render(action: InfraAction, reports: StackReport[], seconds: number): string {
  const rows = reports.map((r) => [r.stack, r.result, r.add, r.change, r.destroy, r.drift.length, r.seconds]);
  const details = reports.flatMap((r) => [
    ...r.drift.map(
      (d) =>
        `  ${r.stack}: ${d.address} ${d.actions.includes("delete") ? "is gone" : `changed (${d.attributes.join(", ") || "attributes"})`}`,
    ),
    ...(r.error ? [`  ${r.stack}: ${r.error}`] : []),
  ]);
  const counts = new Map<string, number>();
  for (const r of reports) counts.set(r.result, (counts.get(r.result) ?? 0) + 1);
  const summary = [...counts].map(([result, n]) => `${n} ${result}`).join(", ");
  return (
    table(["STACK", "RESULT", "ADD", "CHANGE", "DESTROY", "DRIFTED", "SECONDS"], rows) +
    (details.length > 0 ? `\n${details.join("\n")}\n` : "") +
    `\n${action}: ${reports.length} stack(s), ${summary}, in ${seconds} s\n`
  );
}

/**
 * The stacks (cdktf, the AWS provider's classes: about 0.8 s to load) and the terraform runner,
 * loaded when an infra command runs. Required by a path built at run time, so the distributor
 * image's bundle leaves them out: there `logrelay infra` says where it works instead.
 */
function loadInfraModules() {
  const root = join(__dirname, "..", "..");
  try {
    return {
      ...(require(join(root, "stacks", "app")) as typeof import("../../stacks/app")),
      ...(require(join(root, "scripts", "terraform")) as typeof import("../../scripts/terraform")),
    };
  } catch (error) {
    if ((error as { code?: string }).code !== "MODULE_NOT_FOUND") throw error;
    throw new CliError(
      "logrelay infra runs from a clone of the repository (npm ci, then npx logrelay infra ...): this build has no stacks",
    );
  }
}

function register(infra: Command, action: InfraAction, io: CliIo): void {
  const command = infra
    .command(action)
    .description(DESCRIPTIONS[action])
    .requiredOption("--environment <name>", "environments/<name>.json, or the path of an environment file")
    .option("--stacks <glob>", "stacks to include, by full or short name (customer-*, us-east-1)", "*")
    .option("--parallelism <n>", "stacks in flight (default: cores, at most free memory / 0.8 GB)")
    .option("--outdir <dir>", "where the selected stacks are synthesized", "cdktf.out")
    .option("--state-dir <dir>", "state files of an environment with the local backend", ".state")
    .addOption(outputOption());
  if (action === "deploy")
    command.option("--allow-destroy", "apply plans that destroy resources (refused otherwise)");
  command
    .addHelpText(
      "after",
      `\nSynthesizes only the selected stacks, then runs terraform init and ${action === "deploy" ? "plan, then apply of that plan," : "plan"}\n` +
        "in each stack's folder, a bounded number at a time. State: the environment's backend (S3 with a lock file,\n" +
        "or local files under --state-dir). Credentials, region and endpoint: the AWS provider chain (--profile, ...).\n" +
        `Exit codes: 0 done${action === "drift" ? ", 2 a stack drifted" : ""}, 1 a stack failed, 2 bad usage.\n` +
        `Example: logrelay infra ${action} --environment prod --stacks 'customer-*' --parallelism 2 -o json`,
    )
    .action(async (o: InfraOptions) => {
      const env = environmentOption(o.environment);
      const {
        environmentStacks,
        synthStacks,
        fleetTerraformEnv,
        requireTerraform,
        terraform,
        TERRAFORM_INSTALL_HINT,
      } = loadInfraModules();
      const all = environmentStacks(env);
      const specs = selectStacks(all, o.stacks, env.name);
      const parallelism =
        o.parallelism === undefined
          ? defaultParallelism()
          : numberOption(o.parallelism, "--parallelism", { min: 1, max: 256 });
      try {
        requireTerraform(io.env);
      } catch {
        throw new CliError(TERRAFORM_INSTALL_HINT);
      }
      const started = Date.now();
      const progress = (line: string) => io.stderr.write(`${line}\n`);
      const outdir = resolve(o.outdir);
      const stacks: FleetStack[] = synthStacks(env, specs, { outdir, stateDir: resolve(o.stateDir) });
      progress(
        `synthesized ${stacks.length} of ${all.length} stacks into ${o.outdir} in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `${action}, ${parallelism} at a time`,
      );
      const tfEnv = fleetTerraformEnv(join(outdir, ".logrelay"), {}, io.env);
      const run = (dir: string, args: string[]) => terraform(dir, args, tfEnv);
      // terraform's plugin cache is not safe for concurrent installs: one init per kind of stack first.
      for (const kind of new Set(specs.map((s) => s.kind))) {
        const first = stacks[specs.findIndex((s) => s.kind === kind)]!;
        await run(first.dir, ["init", "-input=false"]);
      }
      const reports = await runFleet(action, stacks, {
        parallelism,
        terraform: run,
        progress,
        signal: io.shutdown,
        allowDestroy: o.allowDestroy === true,
      });
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      io.stdout.write(
        o.output === "table"
          ? render(action, reports, seconds)
          : structured(o.output, { action, environment: env.name, parallelism, seconds, stacks: reports }),
      );
      const failed = reports.filter((r) => !passed(r));
      if (failed.length > 0)
        throw new CliError(
          `${failed.length} stack(s) did not ${action}: ${failed.map((r) => r.stack).join(", ")}`,
        );
      const drifted = reports.filter((r) => r.drift.length > 0);
      if (action === "drift" && drifted.length > 0)
        throw new CliError(
          `${drifted.length} stack(s) drifted from their state: ${drifted.map((r) => r.stack).join(", ")}`,
          2,
        );
    });
}

export function registerInfra(program: Command, io: CliIo): void {
  const infra = program
    .command("infra")
    .description("plan, check drift of, or deploy the environment's Terraform stacks, many at a time");
  for (const action of ["plan", "drift", "deploy"] as const) register(infra, action, io);
}
