import type { LogObjectKey } from "./object-key";

/**
 * Session policies passed on the customer-role hop. The effective permissions of a session are
 * the intersection of the role's policies and this document, so even a broadly written customer
 * role yields credentials that reach only this one destination.
 */

const doc = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

export function cloudWatchSessionPolicy(region: string, accountId: string, logGroupName: string): string {
  const group = `arn:aws:logs:${region}:${accountId}:log-group:${logGroupName}`;
  return doc([
    {
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
      Resource: [group, `${group}:*`],
    },
  ]);
}

export function s3SessionPolicy(bucket: string, keyPrefix: string): string {
  return doc([
    { Effect: "Allow", Action: ["s3:PutObject"], Resource: [`arn:aws:s3:::${bucket}/${keyPrefix}*`] },
  ]);
}

/** Where an object lands in the customer's bucket: `{bucket_prefix}{tenant}/{cluster}/{app}/{pod}/{file}`. */
export function customerObjectKey(prefix: string, key: LogObjectKey): string {
  return `${prefix}${key.tenantId}/${key.clusterId}/${key.application}/${key.podName}/${key.file}`;
}

/**
 * CloudWatch stream name: `{cluster_id}/{application}/{pod_name}/{YYYY-MM-DD}` (UTC date of the
 * object's creation). The cluster is included because pod names repeat across clusters.
 */
export function logStreamName(key: LogObjectKey, objectTime: Date): string {
  return `${key.clusterId}/${key.application}/${key.podName}/${objectTime.toISOString().slice(0, 10)}`;
}
