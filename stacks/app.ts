import type { App } from "cdktf";
import { ClusterStack } from "./cluster-stack";
import type { Environment } from "./config";
import { CustomerAccountStack } from "./customer-account-stack";
import { GlobalStack } from "./global-stack";
import { RegionalStack } from "./regional-stack";

/** Every stack of the given environments: global, one per region, customer account and cluster. */
export function buildApp(app: App, environments: Environment[]): App {
  for (const env of environments) {
    new GlobalStack(app, env);
    for (const region of env.regions) new RegionalStack(app, env, region);
    for (const customer of env.customers) new CustomerAccountStack(app, env, customer);
    for (const cluster of env.clusters) new ClusterStack(app, env, cluster);
  }
  return app;
}
