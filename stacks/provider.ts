import { resolve } from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, S3Backend, type TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { Environment } from "./config";
import { PROJECT } from "./naming";

export interface ProviderOptions {
  readonly region: string;
  /** Deploy into another account through this role (customer-account stacks). */
  readonly assumeRoleArn?: string;
  readonly alias?: string;
  /** Stack kind for the default tags. */
  readonly stackKind: string;
}

/**
 * The AWS provider of a stack. In emulator mode it also skips the EC2 metadata lookup and uses
 * path-style S3 (the emulator listens on an IP address); endpoints come from AWS_ENDPOINT_URL
 * at plan/apply time, so the synthesized JSON names no emulator address.
 */
export function awsProvider(scope: Construct, env: Environment, options: ProviderOptions): AwsProvider {
  return new AwsProvider(scope, options.alias ?? "aws", {
    region: options.region,
    ...(options.alias && { alias: options.alias }),
    allowedAccountIds: options.assumeRoleArn ? undefined : [env.account_id],
    ...(options.assumeRoleArn && {
      assumeRole: [{ roleArn: options.assumeRoleArn, sessionName: `${PROJECT}-deploy` }],
    }),
    defaultTags: [
      { tags: { Project: PROJECT, Environment: env.name, StackKind: options.stackKind, ...env.tags } },
    ],
    ...(env.emulator && { skipMetadataApiCheck: "true", s3UsePathStyle: true }),
  });
}

/** App context naming the folder of local state files (`logrelay infra --state-dir`). */
export const STATE_DIR_CONTEXT = "logrelayStateDir";

/**
 * Local state (the app context STATE_DIR_CONTEXT, else LOGRELAY_STATE_DIR, else .state/) or S3
 * with locking, as the environment's `backend` says.
 */
export function configureBackend(stack: TerraformStack, env: Environment, stackName: string): void {
  if (env.backend.type === "local") {
    const dir =
      (stack.node.tryGetContext(STATE_DIR_CONTEXT) as string | undefined) ??
      process.env.LOGRELAY_STATE_DIR ??
      resolve(__dirname, "..", ".state");
    new LocalBackend(stack, { path: resolve(dir, `${stackName}.tfstate`) });
    return;
  }
  new S3Backend(stack, {
    bucket: env.backend.bucket,
    key: `${env.backend.key_prefix}${stackName}.tfstate`,
    region: env.backend.region,
    encrypt: true,
  });
  // Terraform >= 1.10 locks with a lock object next to the state: no DynamoDB table needed.
  stack.addOverride("terraform.backend.s3.use_lockfile", true);
  // The emulator listens on an IP address (AWS_ENDPOINT_URL): path-style requests only.
  if (env.emulator) stack.addOverride("terraform.backend.s3.use_path_style", true);
}
