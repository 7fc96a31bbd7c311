import type { App } from "cdktf";
import type { Environment } from "./config";
import { CustomerAccountStack } from "./customer-account-stack";
import { GlobalStack } from "./global-stack";
import { RegionalStack } from "./regional-stack";

/** Every stack of the given environments: global, one per region, one per customer account. */
export function buildApp(app: App, environments: Environment[]): App {
  for (const env of environments) {
    new GlobalStack(app, env);
    for (const region of env.regions) new RegionalStack(app, env, region);
    for (const customer of env.customers) new CustomerAccountStack(app, env, customer);
  }
  return app;
}
