import type { App } from "cdktf";
import { ClusterStack } from "./cluster-stack";
import type { Environment } from "./config";
import { CustomerAccountStack } from "./customer-account-stack";
import { GlobalStack } from "./global-stack";
import { RegionalStack } from "./regional-stack";

/**
 * Every stack of the given environments: global, one per region, customer account and cluster.
 * Stacks refer to each other by name, not by reference, so the order `cdktf deploy` needs is
 * declared: customer roles trust the central role (IAM checks that it exists), and cluster roles
 * attach their region's writer policy.
 */
export function buildApp(app: App, environments: Environment[]): App {
  for (const env of environments) {
    const global = new GlobalStack(app, env);
    const regional = new Map(
      env.regions.map((region) => {
        const stack = new RegionalStack(app, env, region);
        stack.addDependency(global);
        return [region, stack] as const;
      }),
    );
    for (const customer of env.customers) new CustomerAccountStack(app, env, customer).addDependency(global);
    for (const cluster of env.clusters)
      new ClusterStack(app, env, cluster).addDependency(regional.get(cluster.region)!);
  }
  return app;
}
