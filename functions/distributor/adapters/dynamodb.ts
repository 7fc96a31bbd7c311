import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { LEDGER_PARKED_INDEX } from "../../shared/contract";
import { queryAll } from "../../shared/dynamodb-query";
import { hasErrorName } from "../../shared/errors";
import { ClaimLostError } from "../errors";
import { COUNT_FIELDS, type DeliveryCounts } from "../model/counts";
import type { Checkpoint, Claim } from "../model/ledger";
import type { ParkedDelivery } from "../model/parked";
import type { ConfigSource, DeliveryLedger, RegistrySource } from "../ports";
import {
  CHECKPOINT_FIELDS,
  checkpointSet,
  itemKey,
  KEY,
  ledgerTtl,
  lostGroup,
  parkedFields,
  parkedGroup,
  parkOrder,
  readCheckpoint,
  TTL,
} from "./ledger-items";

/** Leaving the parked index: removing its key attributes. */
const PARKED_INDEX_KEYS = `${LEDGER_PARKED_INDEX.hashKey}, ${LEDGER_PARKED_INDEX.rangeKey}`;

/** Reads every delivery-config item of a tenant (partition key tenant_id), across pages. */
export class DynamoDbConfigSource implements ConfigSource {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
  ) {}

  itemsFor(tenantId: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: "tenant_id = :t",
      ExpressionAttributeValues: { ":t": tenantId },
      ConsistentRead: false,
    });
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

/**
 * Claims, checkpoints and parked deliveries in the ledger table (layout: ./ledger-items.ts). Every
 * write is conditional, so two attempts can never both hold a claim. An item without `state` counts
 * as complete.
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
    return ledgerTtl(this.now(), this.ttlDays);
  }

  async claim(
    id: string,
    owner: string,
    leaseMs: number,
    options: { takeParked?: boolean } = {},
  ): Promise<Claim> {
    const now = this.now();
    const free = `attribute_not_exists(${KEY}) OR (#state = :progress AND (lease_until < :now OR #owner = :me))`;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: itemKey(id),
          // A parked item keeps its ttl: it must not outlive the staged object by being retried.
          UpdateExpression:
            "SET #owner = :me, lease_until = :lease, #state = :progress, #ttl = if_not_exists(#ttl, :ttl), claimed_at = :now",
          ConditionExpression: options.takeParked ? `${free} OR #state = :parked` : free,
          ExpressionAttributeNames: { "#owner": "owner", "#state": "state", "#ttl": TTL },
          ExpressionAttributeValues: {
            ":me": owner,
            ":lease": now + leaseMs,
            ":progress": "in_progress",
            ":now": now,
            ":ttl": this.ttl(),
            ...(options.takeParked && { ":parked": "parked" }),
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
      new GetCommand({ TableName: this.table, Key: itemKey(id), ConsistentRead: true }),
    );
    const item = current.Item ?? {};
    if (item.state === "in_progress") {
      return { state: "busy", owner: String(item.owner), leaseUntilMs: Number(item.lease_until) };
    }
    if (item.state === "parked")
      return { state: "parked", reason: String(item.park_reason), parkedAt: String(item.parked_at) };
    if (item.state === "lost") return { state: "lost", reason: String(item.lost_reason) };
    return { state: "complete" };
  }

  private async ownerUpdate(
    id: string,
    owner: string,
    set: string,
    values: Record<string, unknown>,
    names: Record<string, string> = {},
  ) {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: itemKey(id),
          UpdateExpression: set,
          ConditionExpression: "#owner = :me AND #state = :progress",
          ExpressionAttributeNames: { "#owner": "owner", "#state": "state", ...names },
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
    const { set, values } = checkpointSet(CHECKPOINT_FIELDS, checkpoint);
    await this.ownerUpdate(id, owner, `SET lease_until = :lease, batching = :batching, ${set}`, {
      ...values,
      ":lease": this.now() + leaseMs,
      ":batching": checkpoint.batching,
    });
  }

  async complete(id: string, owner: string, counts: DeliveryCounts): Promise<void> {
    const { set, values } = checkpointSet(COUNT_FIELDS, counts);
    await this.ownerUpdate(
      id,
      owner,
      `SET #state = :complete, delivered_at = :at, ${set} REMOVE lease_until, ${PARKED_INDEX_KEYS}`,
      { ...values, ":complete": "complete", ":at": new Date(this.now()).toISOString() },
    );
  }

  async release(id: string, owner: string): Promise<void> {
    await this.ownerUpdate(id, owner, "SET lease_until = :zero", { ":zero": 0 });
  }

  async park(id: string, owner: string, parked: ParkedDelivery): Promise<void> {
    // parked_at stays the first park's time: how long a destination has been broken.
    await this.setAside(
      id,
      owner,
      parked,
      "parked",
      parkedGroup(parked),
      "park_reason = :reason, parked_at = if_not_exists(parked_at, :at)",
    );
  }

  async lose(id: string, owner: string, lost: ParkedDelivery): Promise<void> {
    await this.setAside(id, owner, lost, "lost", lostGroup(lost), "lost_reason = :reason, lost_at = :at");
  }

  /** Parked or lost: the item leaves the lease, carries what to deliver, and joins its index partition. */
  private async setAside(
    id: string,
    owner: string,
    delivery: ParkedDelivery,
    state: "parked" | "lost",
    group: string,
    stamp: string,
  ): Promise<void> {
    const fields = parkedFields(delivery);
    const values: Record<string, unknown> = {
      ":aside": state,
      ":group": group,
      ":order": parkOrder(delivery),
      ":at": new Date(this.now()).toISOString(),
      ":reason": delivery.reason,
    };
    // Names go through placeholders: several (bucket, target, ...) are DynamoDB reserved words.
    const names: Record<string, string> = {};
    for (const [f, v] of Object.entries(fields)) {
      values[`:${f}`] = v;
      names[`#${f}`] = f;
    }
    const set = Object.keys(fields).map((f) => `#${f} = :${f}`);
    await this.ownerUpdate(
      id,
      owner,
      `SET #state = :aside, ${LEDGER_PARKED_INDEX.hashKey} = :group, ${LEDGER_PARKED_INDEX.rangeKey} = :order, ${stamp}, ${set.join(", ")} REMOVE lease_until`,
      values,
      names,
    );
  }
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
  async park(): Promise<void> {
    throw new Error("parking needs the delivery ledger (DELIVERY_LEDGER_TABLE)");
  }
  async lose(): Promise<void> {}
  async renew(): Promise<void> {}
  async checkpoint(): Promise<void> {}
  async complete(): Promise<void> {}
  async release(): Promise<void> {}
}
