/**
 * Typed IAM policy documents. Built in TypeScript (tokens such as ARNs resolve inside the JSON),
 * so tests can parse the synthesized documents and evaluate them with an IAM simulator.
 */
export type ConditionOperator =
  | "StringEquals"
  | "StringLike"
  | "StringNotEquals"
  | "ArnLike"
  | "ArnEquals"
  | "ArnNotEquals"
  | "ArnNotLike"
  | "Bool"
  | "Null"
  | "NumericLessThanEquals"
  | "ForAllValues:StringEquals"
  | "ForAnyValue:StringEquals"
  | "StringEqualsIfExists";

export type Conditions = Partial<Record<ConditionOperator, Record<string, string | string[] | boolean>>>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?:
    | "*"
    | { readonly AWS?: string | string[]; readonly Service?: string | string[]; readonly Federated?: string };
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Condition?: Conditions;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

export function policy(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** JSON text for a Terraform `policy` argument. */
export function policyJson(...statements: PolicyStatement[]): string {
  return JSON.stringify(policy(...statements));
}

/** Deny any request that does not use TLS. */
export function tlsOnly(resources: string[], principal: PolicyStatement["Principal"] = "*"): PolicyStatement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: principal,
    Action: "*",
    Resource: resources,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}
