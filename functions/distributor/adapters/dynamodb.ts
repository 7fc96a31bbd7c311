import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { hasErrorName } from "../../shared/errors";
import { ClaimLostError } from "../errors";
import type {
  Checkpoint,
  Claim,
  ConfigSource,
  DeliveryCounts,
  DeliveryLedger,
  RegistrySource,
} from "../ports";

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

/** The tenant registry: one item per tenant (partition key tenant_id). */
export class DynamoDbRegistrySource implements RegistrySource {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
  ) {}

  async registrationOf(tenantId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { tenant_id: tenantId } }));
    return out.Item;
  }
}

const COUNT_FIELDS = [
  "eventsDelivered",
  "eventsRejected",
  "eventsSplit",
  "badLines",
  "bytes",
  "batches",
] as const;
const CHECKPOINT_FIELDS = [...COUNT_FIELDS, "position", "windowNowMs"] as const;

/**
 * Ledger items, one per (object version, destination): `pk`, `state` (`in_progress` or
 * `complete`), `owner` and `lease_until` (epoch ms) of the current claim, the checkpoint (`cp_*`,
 * `batching`) and `ttl` (epoch s). Every write is conditional, so two attempts can never both
 * hold a claim. An item from before claims existed (no `state`) counts as complete.
 */
export class DynamoDbDeliveryLedger implements DeliveryLedger {
  readonly durable = true;

  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
    private readonly ttlDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  private ttl(): number {
    return Math.floor(this.now() / 1000) + this.ttlDays * 86_400;
  }

  async claim(id: string, owner: string, leaseMs: number): Promise<Claim> {
    const now = this.now();
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: id },
          UpdateExpression:
            "SET #owner = :me, lease_until = :lease, #state = if_not_exists(#state, :progress), #ttl = :ttl, claimed_at = :now",
          ConditionExpression:
            "attribute_not_exists(pk) OR (#state = :progress AND (lease_until < :now OR #owner = :me))",
          ExpressionAttributeNames: { "#owner": "owner", "#state": "state", "#ttl": "ttl" },
          ExpressionAttributeValues: {
            ":me": owner,
            ":lease": now + leaseMs,
            ":progress": "in_progress",
            ":now": now,
            ":ttl": this.ttl(),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      const checkpoint = readCheckpoint(out.Attributes ?? {});
      return { state: "claimed", ...(checkpoint && { checkpoint }) };
    } catch (error) {
      if (!hasErrorName(error, "ConditionalCheckFailedException")) throw error;
    }
    const current = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: id }, ConsistentRead: true }),
    );
    const item = current.Item ?? {};
    if (item.state === "in_progress") {
      return { state: "busy", owner: String(item.owner), leaseUntilMs: Number(item.lease_until) };
    }
    return { state: "complete" };
  }

  private async ownerUpdate(id: string, owner: string, set: string, values: Record<string, unknown>) {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: id },
          UpdateExpression: set,
          ConditionExpression: "#owner = :me AND #state = :progress",
          ExpressionAttributeNames: { "#owner": "owner", "#state": "state" },
          ExpressionAttributeValues: { ":me": owner, ":progress": "in_progress", ...values },
        }),
      );
    } catch (error) {
      if (hasErrorName(error, "ConditionalCheckFailedException")) {
        throw new ClaimLostError(`the claim on ${id} is no longer held by ${owner}`);
      }
      throw error;
    }
  }

  async renew(id: string, owner: string, leaseMs: number): Promise<void> {
    await this.ownerUpdate(id, owner, "SET lease_until = :lease", { ":lease": this.now() + leaseMs });
  }

  async checkpoint(id: string, owner: string, checkpoint: Checkpoint, leaseMs: number): Promise<void> {
    const values: Record<string, unknown> = {
      ":lease": this.now() + leaseMs,
      ":batching": checkpoint.batching,
    };
    for (const f of CHECKPOINT_FIELDS) values[`:${f}`] = checkpoint[f];
    const set = CHECKPOINT_FIELDS.map((f) => `cp_${f} = :${f}`).join(", ");
    await this.ownerUpdate(id, owner, `SET lease_until = :lease, batching = :batching, ${set}`, values);
  }

  async complete(id: string, owner: string, counts: DeliveryCounts): Promise<void> {
    const values: Record<string, unknown> = {
      ":complete": "complete",
      ":at": new Date(this.now()).toISOString(),
    };
    for (const f of COUNT_FIELDS) values[`:${f}`] = counts[f];
    const set = COUNT_FIELDS.map((f) => `cp_${f} = :${f}`).join(", ");
    await this.ownerUpdate(
      id,
      owner,
      `SET #state = :complete, delivered_at = :at, ${set} REMOVE lease_until`,
      values,
    );
  }

  async release(id: string, owner: string): Promise<void> {
    await this.ownerUpdate(id, owner, "SET lease_until = :zero", { ":zero": 0 });
  }
}

function readCheckpoint(item: Record<string, unknown>): Checkpoint | undefined {
  if (typeof item.batching !== "string") return undefined;
  const cp: Record<string, unknown> = { batching: item.batching };
  for (const f of CHECKPOINT_FIELDS) {
    const v = Number(item[`cp_${f}`]);
    if (!Number.isFinite(v)) return undefined;
    cp[f] = v;
  }
  return cp as unknown as Checkpoint;
}

/**
 * Used when DELIVERY_LEDGER_TABLE is unset: every claim succeeds and nothing is remembered, so a
 * retried message may deliver its events twice (an attempt still resumes after an interrupted read).
 */
export class NoLedger implements DeliveryLedger {
  readonly durable = false;
  async claim(): Promise<Claim> {
    return { state: "claimed" };
  }
  async renew(): Promise<void> {}
  async checkpoint(): Promise<void> {}
  async complete(): Promise<void> {}
  async release(): Promise<void> {}
}
