import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { CustomerAccount, Environment } from "./config";
import { EncryptedBucket } from "./constructs/encrypted-bucket";
import { policyJson } from "./constructs/iam";
import { type CustomerRoleSpec, logDistributionRole } from "./customer-role";
import { centralRoleArn } from "./global-stack";
import { names } from "./naming";
import { awsProvider, configureBackend } from "./provider";

export function customerRoleSpec(env: Environment, customer: CustomerAccount): CustomerRoleSpec {
  return {
    tenantId: customer.tenant_id,
    accountId: customer.account_id,
    externalId: customer.external_id,
    centralRoleArn: centralRoleArn(env),
    logGroupPrefix: customer.log_group_prefix,
    ...(customer.bucket && { bucket: { name: customer.bucket.name, prefix: customer.bucket.prefix } }),
    ...(customer.firehose_streams?.length && { firehoseStreams: customer.firehose_streams }),
  };
}

/**
 * In a customer's account: the log-distribution role logrelay's central role assumes (with this
 * tenant's ExternalId and tenant tag), allowed to write only under the tenant's log-group prefix
 * and bucket prefix; optionally the destination bucket itself. One state per onboarding target.
 */
export class CustomerAccountStack extends TerraformStack {
  readonly role: IamRole;

  constructor(scope: Construct, env: Environment, customer: CustomerAccount) {
    const stackName = names(env.name).customerStack(customer.tenant_id);
    super(scope, stackName);
    configureBackend(this, env, stackName);
    // In the emulator, assuming any role ARN in the customer's account acts as that account.
    const deployRole =
      customer.deploy_role_arn ??
      (env.emulator ? `arn:aws:iam::${customer.account_id}:role/logrelay-deploy` : undefined);
    awsProvider(this, env, {
      region: env.regions[0]!,
      stackKind: "customer-account",
      ...(deployRole && { assumeRoleArn: deployRole }),
    });
    const spec = customerRoleSpec(env, customer);
    this.role = logDistributionRole(
      this,
      { role: "log-distribution-role", policy: "log-distribution-policy" },
      spec,
    );
    if (customer.bucket?.create) {
      const key = new KmsKey(this, "bucket-key", {
        description: `logrelay deliveries for ${customer.tenant_id}`,
        enableKeyRotation: true,
        deletionWindowInDays: 7,
      });
      new EncryptedBucket(this, "bucket", {
        bucketName: customer.bucket.name,
        kmsKey: key,
        tlsOnly: !env.emulator,
      });
      new IamRolePolicy(this, "bucket-key-policy", {
        role: this.role.id,
        name: "logrelay-bucket-key",
        policy: policyJson({
          Sid: "EncryptDeliveredObjects",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: key.arn,
          Condition: { StringEquals: { "kms:ViaService": `s3.${env.regions[0]}.amazonaws.com` } },
        }),
      });
    }
    new TerraformOutput(this, "log_distribution_role_arn", { value: this.role.arn });
  }
}
