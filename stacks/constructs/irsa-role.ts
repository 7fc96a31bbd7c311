import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { IAM_PATH } from "../naming";
import { idFrom } from "./addresses";
import { type PolicyStatement, policyJson } from "./iam";

/** The audience EKS and the pod identity webhook use for IRSA tokens. */
export const STS_AUDIENCE = "sts.amazonaws.com";

export interface OidcIssuer {
  /** ARN of the IAM OIDC provider of the cluster (created by the cluster stack or existing). */
  readonly providerArn: string;
  /** The issuer URL of the cluster's service-account tokens, `https://...`. */
  readonly url: string;
  /** @default "sts.amazonaws.com" */
  readonly audience?: string;
}

export interface IrsaRoleProps {
  readonly roleName: string;
  readonly description?: string;
  readonly issuer: OidcIssuer;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Managed policies to attach. @default none */
  readonly managedPolicies?: Readonly<Record<string, string>>;
  /** One inline policy with these statements. @default none */
  readonly statements?: readonly PolicyStatement[];
  /** @default none */
  readonly tags?: Record<string, string>;
  readonly provider?: TerraformProvider;
}

/** The issuer without scheme, as IAM condition keys spell it (`oidc.example.com/id/X:sub`). */
export const issuerHost = (url: string) => url.replace(/^https:\/\//, "").replace(/\/$/, "");

/** Trust policy of an IRSA role: one service account of one cluster, one audience. */
export function irsaTrustPolicy(issuer: OidcIssuer, namespace: string, serviceAccount: string): string {
  const host = issuerHost(issuer.url);
  return policyJson({
    Sid: "OnlyThisServiceAccount",
    Effect: "Allow",
    Principal: { Federated: issuer.providerArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: {
        [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
        [`${host}:aud`]: issuer.audience ?? STS_AUDIENCE,
      },
    },
  });
}

/**
 * An IAM role for a Kubernetes service account (IRSA): only `namespace/serviceAccount` of the
 * cluster behind `issuer` can assume it, with its own policies and nothing else.
 */
export class IrsaRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: IrsaRoleProps) {
    super(scope, id);
    if (props.roleName.length > 64) {
      throw new Error(
        `IAM role names are at most 64 characters, got ${props.roleName} (${props.roleName.length})`,
      );
    }
    if (!props.issuer.url.startsWith("https://")) {
      throw new Error(`the OIDC issuer URL must start with https://, got ${props.issuer.url}`);
    }
    this.role = new IamRole(this, "role", {
      name: props.roleName,
      path: IAM_PATH,
      ...(props.description && { description: props.description }),
      assumeRolePolicy: irsaTrustPolicy(props.issuer, props.namespace, props.serviceAccount),
      ...(props.tags && { tags: props.tags }),
      provider: props.provider,
    });
    for (const [name, policyArn] of Object.entries(props.managedPolicies ?? {})) {
      new IamRolePolicyAttachment(this, `policy-${idFrom(name)}`, {
        role: this.role.name,
        policyArn,
        provider: props.provider,
      });
    }
    if (props.statements && props.statements.length > 0) {
      new IamRolePolicy(this, "inline", {
        role: this.role.id,
        name: "least-privilege",
        policy: policyJson(...props.statements),
        provider: props.provider,
      });
    }
  }
}
