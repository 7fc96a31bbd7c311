import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import {
  AccountIdSchema,
  BucketPrefixSchema,
  DeliveryConfigSchema,
  RoleArnSchema,
  TenantIdSchema,
} from "../../functions/shared/delivery-config";
import { BUCKET_NAME_PATTERN, LOG_GROUP_NAME_PATTERN } from "../../functions/shared/patterns";
import { defaultLogGroupPrefix } from "../../stacks/config";
import { customerRoleTemplate } from "../../stacks/customer-role";
import { customerRoleArn } from "../../stacks/naming";
import { CliError, type CliIo } from "../io";
import { type ConnectionOptions, expectOk, transportFor } from "./tenants";

interface OnboardOptions {
  account: string;
  centralRoleArn?: string;
  logGroupPrefix?: string;
  bucket?: string;
  bucketPrefix: string;
  out: string;
  apiUrl?: string;
  table?: string;
  registryTable?: string;
  rotateExternalId?: boolean;
  force?: boolean;
}

/** A fresh ExternalId for one tenant: never shared, hard to guess, within sts:ExternalId rules. */
export const newExternalId = (tenant: string) => `${tenant}-${randomBytes(16).toString("hex")}`;

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
    .option("--out <dir>", "where to write the files", "onboarding")
    .option("--api-url <url>", "register the tenant through this tenant API (default LOGRELAY_API_URL)")
    .option("--table <name>", "or directly: the config table (default TENANT_CONFIG_TABLE)")
    .option("--registry-table <name>", "and the registry table (default TENANT_REGISTRY_TABLE)")
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

      const entryPath = join(o.out, `${tenant}-customer-stack.json`);
      const kept = o.rotateExternalId ? undefined : existingExternalId(entryPath, tenant);
      const externalId = kept ?? newExternalId(tenant);
      const roleArn = customerRoleArn(o.account, tenant);
      const bucket = o.bucket ? { name: o.bucket, prefix: o.bucketPrefix } : undefined;
      const spec = {
        tenantId: tenant,
        accountId: o.account,
        externalId,
        centralRoleArn: central,
        logGroupPrefix,
        ...(bucket && { bucket }),
      };
      const configs = [
        DeliveryConfigSchema.parse({
          tenant_id: tenant,
          type: "cloudwatch",
          log_distribution_role_arn: roleArn,
          external_id: externalId,
          log_group_name: `${logGroupPrefix}${tenant}`,
        }),
        ...(bucket
          ? [
              DeliveryConfigSchema.parse({
                tenant_id: tenant,
                type: "s3",
                log_distribution_role_arn: roleArn,
                external_id: externalId,
                bucket_name: bucket.name,
                bucket_prefix: bucket.prefix,
              }),
            ]
          : []),
      ];
      const customerEntry = {
        tenant_id: tenant,
        account_id: o.account,
        external_id: externalId,
        log_group_prefix: logGroupPrefix,
        ...(bucket && { bucket }),
      };

      const templatePath = join(o.out, `${tenant}-logrelay-role.template.json`);
      const files = new Map<string, string>([[templatePath, pretty(customerRoleTemplate(spec))]]);
      const configPaths = configs.map((c) => {
        const path = join(o.out, `${tenant}-${c.type}.json`);
        const { tenant_id: _t, enabled: _e, ...body } = c;
        files.set(path, pretty(body));
        return path;
      });
      files.set(entryPath, pretty(customerEntry));
      const differing = [...files].filter(
        ([path, text]) => existsSync(path) && readFileSync(path, "utf8") !== text,
      );
      if (differing.length > 0 && !o.force) {
        throw new CliError(
          `refusing to overwrite ${differing.map(([p]) => p).join(", ")}: they differ from this run's ` +
            `(${o.rotateExternalId ? "a new ExternalId" : "other options"}); pass --force to replace them, or another --out`,
        );
      }
      mkdirSync(o.out, { recursive: true });
      // ExternalIds are shared secrets between the platform and the customer: owner-only files.
      for (const [path, text] of files) {
        writeFileSync(path, text, { mode: 0o600 });
        chmodSync(path, 0o600);
      }
      const registered = await registerAccount(io, o, tenant, o.account);

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
          `  ${2 + configPaths.length}. logrelay tenants validate ${tenant} cloudwatch${bucket ? `   (and: logrelay tenants validate ${tenant} s3)` : ""}`,
          "",
        ].join("\n"),
      );
    });
}

const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The ExternalId a previous run wrote for this tenant into --out, if any (a broken file is an error). */
function existingExternalId(entryPath: string, tenant: string): string | undefined {
  if (!existsSync(entryPath)) return undefined;
  let entry: { tenant_id?: unknown; external_id?: unknown };
  try {
    entry = JSON.parse(readFileSync(entryPath, "utf8"));
  } catch (error) {
    throw new CliError(
      `${entryPath} is not JSON (${(error as Error).message}): fix or remove it, or pass --rotate-external-id --force`,
    );
  }
  if (entry.tenant_id !== tenant || typeof entry.external_id !== "string")
    throw new CliError(`${entryPath} is not tenant ${tenant}'s entry: use another --out`);
  return entry.external_id;
}

/**
 * Adds the account to the tenant's registration (creating it), when an API or the tables are
 * configured: the platform's record that this tenant's logs may go to that account. Returns the
 * registered accounts, or undefined when there is nothing to register with.
 */
async function registerAccount(
  io: CliIo,
  o: Pick<ConnectionOptions, "apiUrl" | "table" | "registryTable">,
  tenant: string,
  account: string,
): Promise<string[] | undefined> {
  if (!(o.apiUrl ?? io.env.LOGRELAY_API_URL ?? o.table ?? io.env.TENANT_CONFIG_TABLE)) return undefined;
  const call = await transportFor({ ...o, output: "table" }, io);
  const path = `/registry/${encodeURIComponent(tenant)}`;
  const current = await call({ method: "GET", path, query: {} });
  const known =
    current.status === 200 ? (current.body as { accounts: string[]; clusters?: string[] }) : undefined;
  const accounts = [...new Set([...(known?.accounts ?? []), account])];
  const body = JSON.stringify({ accounts, ...(known?.clusters && { clusters: known.clusters }) });
  expectOk(await call({ method: "PUT", path, query: {}, body }));
  return accounts;
}
