import { resolve } from "node:path";
import { App } from "cdktf";
import { describeError } from "./functions/shared/errors";
import { buildApp } from "./stacks/app";
import { EnvironmentError, loadEnvironments } from "./stacks/config";

// One Terraform state per stack: <project>-<env>-global, -<region>, -customer-<tenant>, -cluster-<id>.
// LOGRELAY_ENVIRONMENTS=local,prod limits which environments are synthesized;
// LOGRELAY_ENVIRONMENTS_DIR reads them from another folder than environments/.
try {
  const dir = process.env.LOGRELAY_ENVIRONMENTS_DIR ?? resolve(__dirname, "environments");
  const environments = loadEnvironments(dir, process.env.LOGRELAY_ENVIRONMENTS);
  buildApp(new App(), environments).synth();
} catch (error) {
  // An operator's mistake reads as one message and exit 1, never as a stack trace.
  const message =
    error instanceof EnvironmentError
      ? error.message
      : `cannot synthesize the stacks: ${describeError(error)} (LOGRELAY_DEBUG=1 shows where)`;
  process.stderr.write(`logrelay: ${message}\n`);
  if (process.env.LOGRELAY_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
