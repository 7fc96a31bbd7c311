import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { ConfigSource, DeliveryLedger } from "../ports";

/** Reads every delivery-config item of a tenant (partition key tenant_id), across pages. */
export class DynamoDbConfigSource implements ConfigSource {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
  ) {}

  async itemsFor(tenantId: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "tenant_id = :t",
          ExpressionAttributeValues: { ":t": tenantId },
          ConsistentRead: false,
          ...(start && { ExclusiveStartKey: start }),
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

/** Ledger items: `pk` = object version + destination, `ttl` in epoch seconds. */
export class DynamoDbDeliveryLedger implements DeliveryLedger {
  readonly durable = true;

  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
    private readonly ttlDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  async has(id: string): Promise<boolean> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: id }, ConsistentRead: true }),
    );
    return out.Item !== undefined;
  }

  async record(id: string, detail: Record<string, string | number>): Promise<void> {
    const ttl = Math.floor(this.now() / 1000) + this.ttlDays * 86_400;
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...detail, pk: id, ttl } }));
  }
}

/** Used when DELIVERY_LEDGER_TABLE is unset: nothing is remembered, retries may duplicate. */
export class NoLedger implements DeliveryLedger {
  readonly durable = false;
  async has(): Promise<boolean> {
    return false;
  }
  async record(): Promise<void> {}
}
