import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DeliveryConfig, DeliveryConfigSchema } from "../functions/shared/delivery-config";
import { customerRoleTemplate } from "../stacks/customer-role";
import { customerRoleArn } from "../stacks/naming";
import { CliError } from "./io";

/** A fresh ExternalId for one tenant: never shared, hard to guess, within sts:ExternalId rules. */
export const newExternalId = (tenant: string) => `${tenant}-${randomBytes(16).toString("hex")}`;

/** What onboarding one tenant decides (options checked by the command). */
export interface Onboarding {
  readonly tenantId: string;
  readonly accountId: string;
  readonly centralRoleArn: string;
  readonly logGroupPrefix: string;
  readonly bucket?: { readonly name: string; readonly prefix: string };
  /** A Firehose stream in the customer's account to deliver to as well. */
  readonly firehoseStream?: string;
  /** Where the files go. */
  readonly out: string;
  /** Issue a new ExternalId even when `out` holds one for this tenant. */
  readonly rotateExternalId?: boolean;
}

/** The files of an onboarding, by path, and what each is. */
export interface OnboardingFiles {
  readonly externalId: string;
  /** True when the ExternalId was kept from an earlier run's files. */
  readonly kept: boolean;
  readonly roleArn: string;
  readonly templatePath: string;
  readonly entryPath: string;
  readonly configPaths: string[];
  readonly files: ReadonlyMap<string, string>;
}

const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * What onboarding writes: the CloudFormation template of the customer's role, the entry for the
 * environment file's `customers`, and one delivery config per destination.
 */
export function onboardingFiles(o: Onboarding): OnboardingFiles {
  const tenant = o.tenantId;
  const entryPath = join(o.out, `${tenant}-customer-stack.json`);
  const kept = o.rotateExternalId ? undefined : existingExternalId(entryPath, tenant);
  const externalId = kept ?? newExternalId(tenant);
  const roleArn = customerRoleArn(o.accountId, tenant);
  const spec = {
    tenantId: tenant,
    accountId: o.accountId,
    externalId,
    centralRoleArn: o.centralRoleArn,
    logGroupPrefix: o.logGroupPrefix,
    ...(o.bucket && { bucket: o.bucket }),
    ...(o.firehoseStream && { firehoseStreams: [o.firehoseStream] }),
  };
  const common = { tenant_id: tenant, log_distribution_role_arn: roleArn, external_id: externalId };
  const configs: DeliveryConfig[] = [
    DeliveryConfigSchema.parse({
      ...common,
      type: "cloudwatch",
      log_group_name: `${o.logGroupPrefix}${tenant}`,
    }),
    ...(o.bucket
      ? [
          DeliveryConfigSchema.parse({
            ...common,
            type: "s3",
            bucket_name: o.bucket.name,
            bucket_prefix: o.bucket.prefix,
          }),
        ]
      : []),
    ...(o.firehoseStream
      ? [DeliveryConfigSchema.parse({ ...common, type: "firehose", delivery_stream_arn: o.firehoseStream })]
      : []),
  ];
  const customerEntry = {
    tenant_id: tenant,
    account_id: o.accountId,
    external_id: externalId,
    log_group_prefix: o.logGroupPrefix,
    ...(o.bucket && { bucket: o.bucket }),
    ...(o.firehoseStream && { firehose_streams: [o.firehoseStream] }),
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
  return { externalId, kept: kept !== undefined, roleArn, templatePath, entryPath, configPaths, files };
}

/**
 * Writes the files owner-only (ExternalIds are shared secrets between the platform and the
 * customer). Files that exist and differ are refused unless `force`.
 */
export function writeOnboardingFiles(files: OnboardingFiles, out: string, force: boolean, why: string): void {
  const differing = [...files.files].filter(
    ([path, text]) => existsSync(path) && readFileSync(path, "utf8") !== text,
  );
  if (differing.length > 0 && !force) {
    throw new CliError(
      `refusing to overwrite ${differing.map(([p]) => p).join(", ")}: they differ from this run's ` +
        `(${why}); pass --force to replace them, or another --out`,
    );
  }
  mkdirSync(out, { recursive: true });
  for (const [path, text] of files.files) {
    writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
}

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
