import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from "@aws-sdk/lib-dynamodb";
import { queryAll } from "../../shared/dynamodb-query";
import { hasErrorName } from "../../shared/errors";
import { badRequest } from "../errors";
import type { ConfigRepository, Page, RegistryRepository, StoredConfig, StoredRegistration } from "../ports";

/** Cursor = base64url of DynamoDB's LastEvaluatedKey; checked on the way back in. */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

function decodeCursor(
  cursor: string,
  keyNames: readonly string[] = ["tenant_id", "type"],
): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, unknown>;
    if (keyNames.every((k) => typeof key[k] === "string") && Object.keys(key).length === keyNames.length)
      return key;
  } catch {
    // fall through
  }
  throw badRequest("invalid cursor", { cursor: ["use the cursor returned by the previous page"] });
}

/** One page of a table scan; the cursor is checked against the table's key attributes. */
async function scanPage(
  db: Pick<DynamoDBDocumentClient, "send">,
  table: string,
  limit: number,
  cursor: string | undefined,
  keyNames: readonly string[],
): Promise<Page<Record<string, unknown>>> {
  const out = await db.send(
    new ScanCommand({
      TableName: table,
      Limit: limit,
      ...(cursor && { ExclusiveStartKey: decodeCursor(cursor, keyNames) }),
    }),
  );
  return {
    items: out.Items ?? [],
    ...(out.LastEvaluatedKey && { cursor: encodeCursor(out.LastEvaluatedKey) }),
  };
}

export class DynamoDbConfigRepository implements ConfigRepository {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
  ) {}

  list(limit: number, cursor?: string): Promise<Page<Record<string, unknown>>> {
    return scanPage(this.db, this.table, limit, cursor, ["tenant_id", "type"]);
  }

  listTenant(tenantId: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: "tenant_id = :t",
      ExpressionAttributeValues: { ":t": tenantId },
    });
  }

  async get(tenantId: string, type: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { tenant_id: tenantId, type }, ConsistentRead: true }),
    );
    return out.Item;
  }

  async create(item: StoredConfig): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.table,
        Item: item,
        ConditionExpression: "attribute_not_exists(tenant_id)",
      }),
    );
  }

  async replace(item: StoredConfig, expectedVersion: number): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.table,
        Item: item,
        ConditionExpression: "#v = :expected",
        ExpressionAttributeNames: { "#v": "version" },
        ExpressionAttributeValues: { ":expected": expectedVersion },
      }),
    );
  }

  async delete(tenantId: string, type: string, expectedVersion?: number): Promise<boolean> {
    return this.conditional(
      new DeleteCommand({
        TableName: this.table,
        Key: { tenant_id: tenantId, type },
        ...(expectedVersion === undefined
          ? { ConditionExpression: "attribute_exists(tenant_id)" }
          : {
              ConditionExpression: "#v = :expected",
              ExpressionAttributeNames: { "#v": "version" },
              ExpressionAttributeValues: { ":expected": expectedVersion },
            }),
      }),
    );
  }

  private async conditional(command: PutCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.db.send(command as PutCommand);
      return true;
    } catch (e) {
      if (hasErrorName(e, "ConditionalCheckFailedException")) return false;
      throw e;
    }
  }
}

/** The tenant registry table (partition key tenant_id). */
export class DynamoDbRegistryRepository implements RegistryRepository {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
  ) {}

  list(limit: number, cursor?: string): Promise<Page<Record<string, unknown>>> {
    return scanPage(this.db, this.table, limit, cursor, ["tenant_id"]);
  }

  async get(tenantId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { tenant_id: tenantId }, ConsistentRead: true }),
    );
    return out.Item;
  }

  async put(item: StoredRegistration): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: item }));
  }

  async delete(tenantId: string): Promise<boolean> {
    const out = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { tenant_id: tenantId }, ReturnValues: "ALL_OLD" }),
    );
    return out.Attributes !== undefined;
  }
}
