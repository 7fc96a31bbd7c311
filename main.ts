import { resolve } from "node:path";
import { App } from "cdktf";
import { buildApp } from "./stacks/app";
import { loadEnvironments } from "./stacks/config";

// One Terraform state per stack: <project>-<env>-global, -<region>, -customer-<tenant>, -cluster-<id>.
// LOGRELAY_ENVIRONMENTS=local,prod limits which environments/*.json are synthesized.
const environments = loadEnvironments(resolve(__dirname, "environments"), process.env.LOGRELAY_ENVIRONMENTS);
buildApp(new App(), environments).synth();
