import type { Command } from "commander";
import {
  AccountIdSchema,
  BucketPrefixSchema,
  RoleArnSchema,
  TenantIdSchema,
} from "../../functions/shared/delivery-config";
import {
  BUCKET_NAME_PATTERN,
  FIREHOSE_STREAM_ARN_PATTERN,
  LOG_GROUP_NAME_PATTERN,
} from "../../functions/shared/patterns";
import { defaultLogGroupPrefix } from "../../stacks/config";
import { apiClient } from "../api-client";
import { CliError, type CliIo } from "../io";
import { onboardingFiles, writeOnboardingFiles } from "../onboard";
import { addAccount } from "../tenants";

interface OnboardOptions {
  account: string;
  centralRoleArn?: string;
  logGroupPrefix?: string;
  bucket?: string;
  bucketPrefix: string;
  firehoseStream?: string;
  out: string;
  apiUrl?: string;
  table?: string;
  registryTable?: string;
  auditTable?: string;
  rotateExternalId?: boolean;
  force?: boolean;
}

export function registerOnboard(program: Command, io: CliIo): void {
  program
    .command("onboard")
    .description(
      "issue a tenant's ExternalId and write what the customer deploys (CloudFormation or Terraform inputs) and its delivery configs",
    )
    .argument("<tenant>", "tenant id (DNS label)")
    .requiredOption("--account <id>", "the customer's 12-digit AWS account id")
    .option(
      "--central-role-arn <arn>",
      "central log-distribution role (default CENTRAL_LOG_DISTRIBUTION_ROLE_ARN)",
    )
    .option(
      "--log-group-prefix <prefix>",
      "the role may write only to log groups starting with this (default /logrelay/<tenant>/)",
    )
    .option("--bucket <name>", "also deliver to this S3 bucket in the customer's account")
    .option("--bucket-prefix <prefix>", "key prefix in that bucket", "ROSA/cluster-logs/")
    .option(
      "--firehose-stream <arn>",
      "also deliver to this Firehose stream in the customer's account (one JSON record per event)",
    )
    .option("--out <dir>", "where to write the files", "onboarding")
    .option("--api-url <url>", "register the tenant through this tenant API (default LOGRELAY_API_URL)")
    .option("--table <name>", "or directly: the config table (default TENANT_CONFIG_TABLE)")
    .option("--registry-table <name>", "and the registry table (default TENANT_REGISTRY_TABLE)")
    .option(
      "--audit-table <name>",
      "and the audit trail, which records the registration (default AUDIT_TABLE)",
    )
    .option("--rotate-external-id", "issue a new ExternalId even if --out already holds one for this tenant")
    .option("--force", "replace files in --out that differ from what this run writes")
    .addHelpText(
      "after",
      "\nRun again with the same --out, it keeps the tenant's ExternalId and rewrites nothing that is the same;\n" +
        "files that would change are refused unless --force. The files are readable by their owner only.\n" +
        "Example: logrelay onboard acme --account 111122223333 --bucket acme-logs --out onboarding",
    )
    .action(async (tenant: string, o: OnboardOptions) => {
      if (!TenantIdSchema.safeParse(tenant).success)
        throw new CliError(`tenant id ${JSON.stringify(tenant)} must be a DNS label (a-z, 0-9, '-')`, 2);
      if (!AccountIdSchema.safeParse(o.account).success)
        throw new CliError(`--account must be a 12-digit account id, got ${o.account}`, 2);
      const central = o.centralRoleArn ?? io.env.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN;
      if (!central || !RoleArnSchema.safeParse(central).success) {
        throw new CliError(
          "pass --central-role-arn (or CENTRAL_LOG_DISTRIBUTION_ROLE_ARN): the global stack's output central_log_distribution_role_arn",
          2,
        );
      }
      const logGroupPrefix = o.logGroupPrefix ?? defaultLogGroupPrefix(tenant);
      if (!LOG_GROUP_NAME_PATTERN.test(logGroupPrefix))
        throw new CliError(`--log-group-prefix ${logGroupPrefix} is not a log group name prefix`, 2);
      if (o.bucket && !BUCKET_NAME_PATTERN.test(o.bucket))
        throw new CliError(`--bucket ${o.bucket} is not a valid bucket name`, 2);
      if (!BucketPrefixSchema.safeParse(o.bucketPrefix).success) {
        throw new CliError(
          `--bucket-prefix ${JSON.stringify(o.bucketPrefix)} must be empty or '/'-terminated segments of letters, digits and !_.'()- (no *, ?, . or ..), e.g. ROSA/cluster-logs/`,
          2,
        );
      }

      if (o.firehoseStream !== undefined) {
        const stream = FIREHOSE_STREAM_ARN_PATTERN.exec(o.firehoseStream);
        if (!stream)
          throw new CliError(
            `--firehose-stream ${o.firehoseStream} is not a Firehose stream ARN (arn:aws:firehose:<region>:<account>:deliverystream/<name>)`,
            2,
          );
        if (stream[2] !== o.account)
          throw new CliError(
            `--firehose-stream ${o.firehoseStream} is in account ${stream[2]}, not --account ${o.account}: the customer's role writes only in its own account`,
            2,
          );
      }
      const bucket = o.bucket ? { name: o.bucket, prefix: o.bucketPrefix } : undefined;
      const made = onboardingFiles({
        tenantId: tenant,
        accountId: o.account,
        centralRoleArn: central,
        logGroupPrefix,
        ...(bucket && { bucket }),
        ...(o.firehoseStream && { firehoseStream: o.firehoseStream }),
        out: o.out,
        ...(o.rotateExternalId && { rotateExternalId: true }),
      });
      writeOnboardingFiles(
        made,
        o.out,
        o.force ?? false,
        o.rotateExternalId ? "a new ExternalId" : "other options",
      );
      const { externalId, kept, roleArn, templatePath, entryPath, configPaths } = made;
      // Registered when an API or the tables are configured: the platform's record that this
      // tenant's logs may go to that account.
      const registered =
        (o.apiUrl ?? io.env.LOGRELAY_API_URL ?? o.table ?? io.env.TENANT_CONFIG_TABLE)
          ? await addAccount(apiClient(o, io), tenant, o.account)
          : undefined;

      io.stdout.write(
        [
          `Tenant ${tenant}: ExternalId ${externalId}${kept ? " (kept from the files in --out; --rotate-external-id issues a new one)" : ""}`,
          `Customer role (to be created in ${o.account}): ${roleArn}`,
          "",
          "Files:",
          `  ${templatePath}   CloudFormation template for the customer`,
          `  ${entryPath}   entry for "customers" in environments/<env>.json (Terraform customer-account stack)`,
          ...configPaths.map((p) => `  ${p}   delivery config`),
          "",
          registered
            ? `Registered: tenant ${tenant} may deliver to ${registered.join(", ")}`
            : `Not registered yet (no --api-url or --table): logrelay tenants register ${tenant} --account ${o.account}`,
          "",
          "Next steps:",
          `  1. The customer deploys the role in account ${o.account}, either`,
          `       aws cloudformation deploy --stack-name logrelay-${tenant} --template-file ${templatePath} --capabilities CAPABILITY_NAMED_IAM`,
          `     or you add ${entryPath} to environments/<env>.json and run: npx cdktf deploy logrelay-<env>-customer-${tenant}`,
          ...configPaths.map((p, i) => `  ${2 + i}. logrelay tenants put ${tenant} --file ${p}`),
          `  ${2 + configPaths.length}. ${["cloudwatch", ...(bucket ? ["s3"] : []), ...(o.firehoseStream ? ["firehose"] : [])].map((t) => `logrelay tenants validate ${tenant} ${t}`).join("; ")}`,
          "",
        ].join("\n"),
      );
    });
}
