import {
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  type DescribeLogStreamsCommandOutput,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { LEDGER_PARKED_INDEX } from "../../functions/shared/contract";
import { AUDIT_SORT_KEY } from "../../functions/tenant-api/adapters/dynamodb-repository";

/** Clients for the emulator (environment set by global-setup), per account. */
export const REGION = "us-east-1";
export const CENTRAL_ACCOUNT = "123456789012";

export async function accountCredentials(accountId: string) {
  const sts = new STSClient({ region: REGION });
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/test-admin`, RoleSessionName: "test" }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

export async function clientsFor(accountId: string) {
  const credentials = accountId === CENTRAL_ACCOUNT ? undefined : await accountCredentials(accountId);
  const opts = { region: REGION, ...(credentials && { credentials }) };
  return { s3: new S3Client(opts), logs: new CloudWatchLogsClient(opts) };
}

export const documentClient = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION }));

export async function createConfigTable(name: string): Promise<void> {
  await new DynamoDBClient({ region: REGION }).send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "tenant_id", AttributeType: "S" },
        { AttributeName: "type", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "tenant_id", KeyType: "HASH" },
        { AttributeName: "type", KeyType: "RANGE" },
      ],
    }),
  );
}

export async function createRegistryTable(name: string): Promise<void> {
  await new DynamoDBClient({ region: REGION }).send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "tenant_id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "tenant_id", KeyType: "HASH" }],
    }),
  );
}

/** The audit trail's table, as the regional stack creates it (key: tenant_id, entry). */
export async function createAuditTable(name: string): Promise<void> {
  await new DynamoDBClient({ region: REGION }).send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "tenant_id", AttributeType: "S" },
        { AttributeName: AUDIT_SORT_KEY, AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "tenant_id", KeyType: "HASH" },
        { AttributeName: AUDIT_SORT_KEY, KeyType: "RANGE" },
      ],
    }),
  );
}

/** Registers a tenant as a platform admin would: the accounts (and clusters) its logs may use. */
export async function registerTenant(
  table: string,
  tenantId: string,
  accounts: string[],
  clusters?: string[],
): Promise<void> {
  await documentClient().send(
    new PutCommand({
      TableName: table,
      Item: { tenant_id: tenantId, accounts, ...(clusters && { clusters }) },
    }),
  );
}

/** The ledger as the regional stack creates it: pk, and the sparse index of parked deliveries. */
export async function createLedgerTable(name: string): Promise<void> {
  const { name: index, hashKey, rangeKey } = LEDGER_PARKED_INDEX;
  await new DynamoDBClient({ region: REGION }).send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: hashKey, AttributeType: "S" },
        { AttributeName: rangeKey, AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: index,
          KeySchema: [
            { AttributeName: hashKey, KeyType: "HASH" },
            { AttributeName: rangeKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    }),
  );
}

/**
 * What a distributor suite starts from: its config, registry and ledger tables (as `distributorEnv`
 * names them), its tenants registered to their accounts, and the staging bucket if it has one.
 */
export async function distributorTables(
  tables: {
    readonly config: string;
    readonly registry: string;
    readonly ledger: string;
    readonly staging?: string;
  },
  tenants: Record<string, string[]>,
): Promise<void> {
  await createConfigTable(tables.config);
  await createRegistryTable(tables.registry);
  await createLedgerTable(tables.ledger);
  for (const [tenant, accounts] of Object.entries(tenants))
    await registerTenant(tables.registry, tenant, accounts);
  if (tables.staging) await createBucket((await clientsFor(CENTRAL_ACCOUNT)).s3, tables.staging);
}

export async function putConfig(table: string, item: Record<string, unknown>): Promise<void> {
  await documentClient().send(new PutCommand({ TableName: table, Item: item }));
}

export async function createBucket(s3: S3Client, name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
}

export async function putObject(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Every event of every stream in a log group, or undefined when the group does not exist. */
export async function readLogGroup(logs: CloudWatchLogsClient, group: string) {
  let streams: DescribeLogStreamsCommandOutput;
  try {
    streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }));
  } catch (e) {
    if ((e as Error).name === "ResourceNotFoundException") return undefined;
    throw e;
  }
  const result: Record<string, { timestamp: number; message: string }[]> = {};
  for (const s of streams.logStreams ?? []) {
    const events: { timestamp: number; message: string }[] = [];
    let token: string | undefined;
    for (;;) {
      const page = await logs.send(
        new GetLogEventsCommand({
          logGroupName: group,
          logStreamName: s.logStreamName!,
          startFromHead: true,
          ...(token && { nextToken: token }),
        }),
      );
      for (const e of page.events ?? []) events.push({ timestamp: e.timestamp!, message: e.message! });
      if (!page.nextForwardToken || page.nextForwardToken === token || (page.events ?? []).length === 0)
        break;
      token = page.nextForwardToken;
    }
    result[s.logStreamName!] = events;
  }
  return result;
}

/** The central role suites name (the emulator does not check it exists). */
export const CENTRAL_ROLE_ARN = `arn:aws:iam::${CENTRAL_ACCOUNT}:role/logrelay-central`;

/**
 * The distributor's settings for a suite, over the emulator's environment: its tables, the
 * central role, retries fast enough for tests; `extra` wins.
 */
export function distributorEnv(
  tables: { readonly config: string; readonly registry: string; readonly ledger?: string },
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TENANT_CONFIG_TABLE: tables.config,
    TENANT_REGISTRY_TABLE: tables.registry,
    ...(tables.ledger && { DELIVERY_LEDGER_TABLE: tables.ledger }),
    CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: CENTRAL_ROLE_ARN,
    RETRY_BASE_DELAY_MS: "1",
    ...extra,
  };
}

/** Messages in a queue, visible and in flight. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}
