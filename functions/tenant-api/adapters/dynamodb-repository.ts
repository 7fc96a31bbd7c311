import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { queryAll } from "../../shared/dynamodb-query";
import { hasErrorName } from "../../shared/errors";
import { ApiError, badRequest } from "../errors";
import type {
  AuditEntry,
  AuditTrail,
  ConfigRepository,
  Page,
  RegistryRepository,
  StoredConfig,
  StoredRegistration,
} from "../ports";

type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** The audit table's key: the tenant, and the entry's time and id (newest last). */
export const AUDIT_SORT_KEY = "entry";

/**
 * The audit trail: one item per change, written in the same transaction as the change (so a
 * change never lands without its entry), never updated or deleted by logrelay (the API's role
 * may not), kept `retentionDays` (the table's TTL).
 */
export class DynamoDbAuditTrail implements AuditTrail {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string | undefined,
    private readonly retentionDays: number,
  ) {}

  /** The audit entry as a transaction's Put (append-only: it fails rather than replace an entry). */
  put(entry: AuditEntry): TransactItem {
    if (this.table === undefined)
      throw new ApiError(
        503,
        "AuditNotConfigured",
        "changes are refused without the audit trail: set AUDIT_TABLE (the regional stack's output tenant_audit_table), or --audit-table",
      );
    return {
      Put: {
        TableName: this.table,
        Item: {
          ...entry,
          [AUDIT_SORT_KEY]: `${entry.at}#${entry.id}`,
          ttl: Math.floor(Date.parse(entry.at) / 1000) + this.retentionDays * 86_400,
        },
        ConditionExpression: "attribute_not_exists(tenant_id)",
      },
    };
  }

  async history(tenantId: string, limit: number, cursor?: string): Promise<Page<AuditEntry>> {
    if (this.table === undefined)
      throw new ApiError(503, "AuditNotConfigured", "no audit trail: set AUDIT_TABLE, or --audit-table");
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "tenant_id = :t",
        ExpressionAttributeValues: { ":t": tenantId },
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor && { ExclusiveStartKey: decodeCursor(cursor, ["tenant_id", AUDIT_SORT_KEY]) }),
      }),
    );
    return {
      items: (out.Items ?? []).map(({ [AUDIT_SORT_KEY]: _k, ttl: _t, ...entry }) => entry as AuditEntry),
      ...(out.LastEvaluatedKey && { cursor: encodeCursor(out.LastEvaluatedKey) }),
    };
  }
}

/**
 * Runs a change and its audit entry as one transaction: true when both were written, false when
 * the change's condition failed (nothing was written).
 */
async function transact(
  db: Pick<DynamoDBDocumentClient, "send">,
  change: TransactItem,
  audit: TransactItem,
): Promise<boolean> {
  try {
    await db.send(new TransactWriteCommand({ TransactItems: [change, audit] }));
    return true;
  } catch (e) {
    const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
    if (hasErrorName(e, "TransactionCanceledException") && reasons?.[0]?.Code === "ConditionalCheckFailed")
      return false;
    throw e;
  }
}

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
    private readonly audit: DynamoDbAuditTrail,
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

  create(item: StoredConfig, audit: AuditEntry): Promise<boolean> {
    const change = {
      Put: { TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(tenant_id)" },
    };
    return transact(this.db, change, this.audit.put(audit));
  }

  replace(item: StoredConfig, expectedVersion: number, audit: AuditEntry): Promise<boolean> {
    const change = {
      Put: {
        TableName: this.table,
        Item: item,
        ConditionExpression: "#v = :expected",
        ExpressionAttributeNames: { "#v": "version" },
        ExpressionAttributeValues: { ":expected": expectedVersion },
      },
    };
    return transact(this.db, change, this.audit.put(audit));
  }

  delete(
    tenantId: string,
    type: string,
    expectedVersion: number | undefined,
    audit: AuditEntry,
  ): Promise<boolean> {
    const change = {
      Delete: {
        TableName: this.table,
        Key: { tenant_id: tenantId, type },
        ...(expectedVersion === undefined
          ? { ConditionExpression: "attribute_exists(tenant_id)" }
          : {
              ConditionExpression: "#v = :expected",
              ExpressionAttributeNames: { "#v": "version" },
              ExpressionAttributeValues: { ":expected": expectedVersion },
            }),
      },
    };
    return transact(this.db, change, this.audit.put(audit));
  }
}

/** The tenant registry table (partition key tenant_id). */
export class DynamoDbRegistryRepository implements RegistryRepository {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
    private readonly audit: DynamoDbAuditTrail,
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

  async put(item: StoredRegistration, audit: AuditEntry): Promise<void> {
    await transact(this.db, { Put: { TableName: this.table, Item: item } }, this.audit.put(audit));
  }

  delete(tenantId: string, audit: AuditEntry): Promise<boolean> {
    const change = {
      Delete: {
        TableName: this.table,
        Key: { tenant_id: tenantId },
        ConditionExpression: "attribute_exists(tenant_id)",
      },
    };
    return transact(this.db, change, this.audit.put(audit));
  }
}
