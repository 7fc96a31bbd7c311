import { createHash } from "node:crypto";
import type { Environment } from "./config";

/**
 * Names are part of the contract between stacks (the central role trusts distributor roles by
 * name pattern; customer roles live under one path), so they are built here only.
 */
export const PROJECT = "logrelay";

/** IAM path of every role logrelay creates, central or customer side. */
export const IAM_PATH = "/logrelay/";

export const names = (env: string) => ({
  globalStack: `${PROJECT}-${env}-global`,
  regionStack: (region: string) => `${PROJECT}-${env}-${region}`,
  customerStack: (tenant: string) => `${PROJECT}-${env}-customer-${tenant}`,
  clusterStack: (cluster: string) => `${PROJECT}-${env}-cluster-${cluster}`,
  centralRole: `${PROJECT}-${env}-central-log-distribution`,
  distributorRole: (region: string) => `${PROJECT}-${env}-distributor-${region}`,
  tenantApiRole: (region: string) => `${PROJECT}-${env}-tenant-api-${region}`,
  /** The IRSA role of a cluster's in-cluster distributor (IAM role names have at most 64 characters). */
  inClusterDistributorRole: (clusterId: string) =>
    `${PROJECT}-${env}-distributor-k8s-${clusterId}`.slice(0, 64),
  prefix: (region: string) => `${PROJECT}-${env}-${region}`,
});

/**
 * Customer roles: `arn:aws:iam::<customer account>:role/logrelay/logrelay-log-distribution-<tenant>`.
 * IAM role names have at most 64 characters: a tenant id longer than 38 (valid up to 63) keeps
 * its first 29 characters and gains 8 hex of its SHA-256, so the name is short, stable and unique.
 */
export function customerRoleName(tenant: string): string {
  const name = `${PROJECT}-log-distribution-${tenant}`;
  if (name.length <= 64) return name;
  const digest = createHash("sha256").update(tenant).digest("hex").slice(0, 8);
  return `${name.slice(0, 64 - 9)}-${digest}`;
}
export const customerRoleArn = (account: string, tenant: string) =>
  `arn:aws:iam::${account}:role${IAM_PATH}${customerRoleName(tenant)}`;
/** What the central role may assume: logrelay's customer roles in any account, nothing else. */
export const CUSTOMER_ROLE_PATTERN = `arn:aws:iam::*:role${IAM_PATH}${PROJECT}-log-distribution-*`;

/**
 * Exactly the roles that may assume the central role: each region's distributor and tenant API,
 * and each cluster's in-cluster distributor. Exact ARNs, not a name pattern: a new role whose name
 * merely looks like a distributor's gets nothing. Adding a region or cluster updates the global stack.
 */
export function centralRoleCallers(env: Environment): string[] {
  const n = names(env.name);
  const arn = (role: string) => `arn:aws:iam::${env.account_id}:role${IAM_PATH}${role}`;
  return [
    ...env.regions.flatMap((region) => [arn(n.distributorRole(region)), arn(n.tenantApiRole(region))]),
    ...env.clusters.filter((c) => c.distributor).map((c) => arn(n.inClusterDistributorRole(c.id))),
  ];
}

/** The central log-distribution role (global stack), which every distributor assumes. */
export function centralRoleArn(env: Environment): string {
  return `arn:aws:iam::${env.account_id}:role${IAM_PATH}${names(env.name).centralRole}`;
}

/**
 * The heartbeat tenant's destination in the platform's own account: a log group per region under
 * the environment's and the tenant's prefix, and a role like a customer's. Both names carry the
 * environment's name, so several environments can share one account. The role's name is
 * `<tenant>.<environment>` under the customer-role prefix (the central role may assume it; a tenant
 * id has no '.', so no customer's role can take that name). Its ExternalId is derived (the role is
 * the platform's own, assumable only by the central role).
 */
export const heartbeatLogGroupPrefix = (env: Environment) =>
  `/logrelay/${env.name}/${env.heartbeat.tenant_id}/`;
export const heartbeatLogGroup = (env: Environment, region: string) =>
  `${heartbeatLogGroupPrefix(env)}${region}`;
export const heartbeatExternalId = (env: Environment) =>
  `${PROJECT}-${env.name}-heartbeat-${createHash("sha256").update(`${env.account_id}/${env.name}`).digest("hex").slice(0, 16)}`;
export const heartbeatRoleName = (env: Environment) =>
  customerRoleName(`${env.heartbeat.tenant_id}.${env.name}`);
export const heartbeatRoleArn = (env: Environment) =>
  `arn:aws:iam::${env.account_id}:role${IAM_PATH}${heartbeatRoleName(env)}`;

/** Principal tag the collector roles carry; the writer policy confines them to their cluster's keys. */
export const CLUSTER_TAG = "logrelay-cluster-id";

/** Names and ARNs of a regional stack's resources, known before it is applied (other stacks use them). */
export function regionalResourceNames(env: Environment, region: string) {
  const prefix = names(env.name).prefix(region);
  const account = env.account_id;
  return {
    prefix,
    stagingBucket: `${prefix}-${account}-staging`,
    stagingBucketArn: `arn:aws:s3:::${prefix}-${account}-staging`,
    deliveryQueueName: `${prefix}-delivery`,
    deliveryQueueArn: `arn:aws:sqs:${region}:${account}:${prefix}-delivery`,
    deliveryQueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${prefix}-delivery`,
    configTable: `${prefix}-tenant-configs`,
    configTableArn: `arn:aws:dynamodb:${region}:${account}:table/${prefix}-tenant-configs`,
    registryTable: `${prefix}-tenant-registry`,
    registryTableArn: `arn:aws:dynamodb:${region}:${account}:table/${prefix}-tenant-registry`,
    ledgerTable: `${prefix}-delivery-ledger`,
    auditTable: `${prefix}-tenant-audit`,
    auditTableArn: `arn:aws:dynamodb:${region}:${account}:table/${prefix}-tenant-audit`,
    ledgerTableArn: `arn:aws:dynamodb:${region}:${account}:table/${prefix}-delivery-ledger`,
    alarmTopicName: `${prefix}-alarms`,
    alarmTopicArn: `arn:aws:sns:${region}:${account}:${prefix}-alarms`,
    keyAliasArn: `arn:aws:kms:${region}:${account}:alias/${prefix}`,
    writerPolicyArn: `arn:aws:iam::${account}:policy${IAM_PATH}${prefix}-collector-writer`,
    firehoseStreamName: `${prefix}-ingest`,
    firehoseStreamArn: `arn:aws:firehose:${region}:${account}:deliverystream/${prefix}-ingest`,
    centralRoleArn: centralRoleArn(env),
  };
}

export type RegionalResourceNames = ReturnType<typeof regionalResourceNames>;
