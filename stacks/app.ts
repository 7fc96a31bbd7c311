import { join } from "node:path";
import { App, type TerraformStack } from "cdktf";
import { ClusterStack } from "./cluster-stack";
import type { Environment } from "./config";
import { CustomerAccountStack } from "./customer-account-stack";
import { GlobalStack } from "./global-stack";
import { names } from "./naming";
import { STATE_DIR_CONTEXT } from "./provider";
import { RegionalStack } from "./regional-stack";

export type StackKind = "global" | "regional" | "customer" | "cluster";

/** One stack of an environment, known before anything is constructed: what `infra` selects and orders. */
export interface StackSpec {
  /** The stack's name: its Terraform state key and its folder under cdktf.out/stacks. */
  readonly name: string;
  readonly kind: StackKind;
  /** Stacks that must be applied first (and destroyed last). */
  readonly dependsOn: readonly string[];
  build(app: App): TerraformStack;
}

/**
 * Every stack of an environment: global, one per region, customer account and cluster. Stacks
 * refer to each other by name, not by reference, so the order a deploy needs is declared here:
 * customer roles trust the central role (IAM checks that it exists), and cluster roles attach
 * their region's writer policy.
 */
export function environmentStacks(env: Environment): StackSpec[] {
  const n = names(env.name);
  return [
    { name: n.globalStack, kind: "global", dependsOn: [], build: (app) => new GlobalStack(app, env) },
    ...env.regions.map(
      (region): StackSpec => ({
        name: n.regionStack(region),
        kind: "regional",
        dependsOn: [n.globalStack],
        build: (app) => new RegionalStack(app, env, region),
      }),
    ),
    ...env.customers.map(
      (customer): StackSpec => ({
        name: n.customerStack(customer.tenant_id),
        kind: "customer",
        dependsOn: [n.globalStack],
        build: (app) => new CustomerAccountStack(app, env, customer),
      }),
    ),
    ...env.clusters.map(
      (cluster): StackSpec => ({
        name: n.clusterStack(cluster.id),
        kind: "cluster",
        dependsOn: [n.regionStack(cluster.region)],
        build: (app) => new ClusterStack(app, env, cluster),
      }),
    ),
  ];
}

/**
 * Constructs the stacks of the given environments (only those `select` keeps), with their declared
 * dependencies between the stacks built.
 */
export function buildApp(
  app: App,
  environments: Environment[],
  select: (stack: StackSpec) => boolean = () => true,
): App {
  for (const env of environments) {
    const built = new Map<string, TerraformStack>();
    for (const spec of environmentStacks(env).filter(select)) {
      const stack = spec.build(app);
      for (const dependency of spec.dependsOn) {
        const first = built.get(dependency);
        if (first) stack.addDependency(first);
      }
      built.set(spec.name, stack);
    }
  }
  return app;
}

export interface SynthesizedStack {
  readonly name: string;
  readonly kind: StackKind;
  readonly dir: string;
  readonly dependsOn: readonly string[];
}

/**
 * Synthesizes only the given stacks of one environment into `outdir` (as `cdktf synth` would,
 * without building the rest of the fleet) and says where each one is. Local state files go to
 * `stateDir` when the environment uses the local backend.
 */
export function synthStacks(
  env: Environment,
  stacks: readonly StackSpec[],
  options: { outdir: string; stateDir?: string },
): SynthesizedStack[] {
  const wanted = new Set(stacks.map((s) => s.name));
  const app = new App({
    outdir: options.outdir,
    stackTraces: false,
    ...(options.stateDir && { context: { [STATE_DIR_CONTEXT]: options.stateDir } }),
  });
  buildApp(app, [env], (s) => wanted.has(s.name)).synth();
  return stacks.map((s) => ({
    name: s.name,
    kind: s.kind,
    dir: join(options.outdir, "stacks", s.name),
    dependsOn: s.dependsOn,
  }));
}
