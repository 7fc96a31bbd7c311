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
  /** Patterns (IAM ArnLike) of the roles that may assume the central role: distributors and tenant APIs. */
  centralRoleCallers: (account: string) => [
    `arn:aws:iam::${account}:role${IAM_PATH}${PROJECT}-${env}-distributor-*`,
    `arn:aws:iam::${account}:role${IAM_PATH}${PROJECT}-${env}-tenant-api-*`,
  ],
  prefix: (region: string) => `${PROJECT}-${env}-${region}`,
});

/** Customer roles: `arn:aws:iam::<customer account>:role/logrelay/logrelay-log-distribution-<tenant>`. */
export const customerRoleName = (tenant: string) => `${PROJECT}-log-distribution-${tenant}`;
export const customerRoleArn = (account: string, tenant: string) =>
  `arn:aws:iam::${account}:role${IAM_PATH}${customerRoleName(tenant)}`;
/** What the central role may assume: logrelay's customer roles in any account, nothing else. */
export const CUSTOMER_ROLE_PATTERN = `arn:aws:iam::*:role${IAM_PATH}${PROJECT}-log-distribution-*`;
