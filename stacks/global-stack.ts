import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { SESSION_TAG_KEYS, SESSION_TAGS } from "../functions/shared/contract";
import type { Environment } from "./config";
import { policyJson } from "./constructs/iam";
import { logDistributionRole } from "./customer-role";
import { heartbeatRoleSpec } from "./heartbeat";
import { CUSTOMER_ROLE_PATTERN, centralRoleCallers, IAM_PATH, names } from "./naming";
import { awsProvider, configureBackend } from "./provider";

export { centralRoleArn } from "./naming";

/**
 * Once per environment: the central log-distribution role, the only identity customers trust.
 * Trusted only by the environment's distributor, tenant-API and in-cluster distributor roles, by
 * their exact ARNs (derived from the environment: a new region or cluster updates this stack). It may assume only logrelay customer roles, only with an
 * ExternalId and the tenant session tags, and holds no S3, logs or other data permission.
 */
export class GlobalStack extends TerraformStack {
  readonly centralRole: IamRole;

  constructor(scope: Construct, env: Environment) {
    const n = names(env.name);
    super(scope, n.globalStack);
    configureBackend(this, env, n.globalStack);
    awsProvider(this, env, { region: env.regions[0]!, stackKind: "global" });

    this.centralRole = new IamRole(this, "central-role", {
      name: n.centralRole,
      path: IAM_PATH,
      description: "logrelay: assumes customer log-distribution roles on behalf of the distributor",
      maxSessionDuration: 3600,
      assumeRolePolicy: policyJson({
        Sid: "DistributorAndTenantApiRolesOnly",
        Effect: "Allow",
        // The account root as principal plus exact PrincipalArn values: trust policies cannot name
        // roles that do not exist yet, and distributor roles are created by the regional stacks.
        Principal: { AWS: `arn:aws:iam::${env.account_id}:root` },
        Action: "sts:AssumeRole",
        Condition: { ArnEquals: { "aws:PrincipalArn": centralRoleCallers(env) } },
      }),
    });
    new IamRolePolicy(this, "central-role-policy", {
      role: this.centralRole.id,
      name: "assume-customer-roles",
      policy: policyJson(
        {
          Sid: "AssumeCustomerRolesWithExternalId",
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Resource: CUSTOMER_ROLE_PATTERN,
          Condition: {
            Null: { "sts:ExternalId": "false", [`aws:RequestTag/${SESSION_TAGS.tenant}`]: "false" },
          },
        },
        {
          Sid: "TagSessionsWithTenantOnly",
          Effect: "Allow",
          Action: "sts:TagSession",
          Resource: CUSTOMER_ROLE_PATTERN,
          Condition: {
            "ForAllValues:StringEquals": { "aws:TagKeys": [...SESSION_TAG_KEYS] },
            Null: { [`aws:RequestTag/${SESSION_TAGS.tenant}`]: "false" },
          },
        },
      ),
    });
    new TerraformOutput(this, "central_log_distribution_role_arn", { value: this.centralRole.arn });
    // The heartbeat tenant's role in the platform's own account: its deliveries take the same hop
    // as a customer's (central role, ExternalId, tenant tag, session policy).
    if (env.heartbeat.enabled) {
      const role = logDistributionRole(
        this,
        { role: "heartbeat-role", policy: "heartbeat-policy" },
        heartbeatRoleSpec(env),
      );
      new TerraformOutput(this, "heartbeat_role_arn", { value: role.arn });
    }
  }
}
