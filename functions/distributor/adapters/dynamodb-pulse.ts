import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { LEDGER_PARKED_INDEX } from "../../shared/contract";
import { queryAll } from "../../shared/dynamodb-query";
import { hasErrorName } from "../../shared/errors";
import type { Pulse } from "../model/pulse";
import type { PulseStore } from "../ports";
import { itemKey, KEY, ledgerTtl, PULSES_GROUP, pulseKey, TTL } from "./ledger-items";

/**
 * Each cluster's pulse as an item of the delivery ledger's table (layout: ./ledger-items.ts),
 * listed by the sparse index's `pulses` partition. Writes are conditional on the version read.
 */
export class DynamoDbPulseStore implements PulseStore {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
    private readonly ttlDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(clusterId: string): Promise<Pulse | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: itemKey(pulseKey(clusterId)), ConsistentRead: true }),
    );
    return out.Item ? pulseOf(out.Item) : undefined;
  }

  /** An UpdateItem (the distributor's role may get and update ledger items, never put them). */
  async put(pulse: Pulse, readVersion: number | undefined): Promise<boolean> {
    const values: Record<string, unknown> = {
      cluster_id: pulse.clusterId,
      series: pulse.series,
      last_seq: pulse.lastSeq,
      missing: [...pulse.missing],
      gaps: pulse.gaps,
      last_emitted_at: pulse.lastEmittedAt,
      last_delivered_at: pulse.lastDeliveredAt,
      lag_seconds: pulse.lagSeconds,
      version: pulse.version,
      [LEDGER_PARKED_INDEX.hashKey]: PULSES_GROUP,
      [LEDGER_PARKED_INDEX.rangeKey]: pulse.clusterId,
      [TTL]: ledgerTtl(this.now(), this.ttlDays),
    };
    const names = Object.fromEntries(Object.keys(values).map((k, i) => [`#a${i}`, k]));
    const placeholders = Object.fromEntries(Object.values(values).map((v, i) => [`:v${i}`, v]));
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: itemKey(pulseKey(pulse.clusterId)),
          UpdateExpression: `SET ${Object.keys(values)
            .map((_, i) => `#a${i} = :v${i}`)
            .join(", ")}`,
          ConditionExpression:
            readVersion === undefined ? `attribute_not_exists(${KEY})` : "#version = :read",
          ExpressionAttributeNames: { ...names, ...(readVersion !== undefined && { "#version": "version" }) },
          ExpressionAttributeValues: {
            ...placeholders,
            ...(readVersion !== undefined && { ":read": readVersion }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (hasErrorName(error, "ConditionalCheckFailedException")) return false;
      throw error;
    }
  }

  async all(): Promise<Pulse[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      IndexName: LEDGER_PARKED_INDEX.name,
      KeyConditionExpression: "#g = :g",
      ExpressionAttributeNames: { "#g": LEDGER_PARKED_INDEX.hashKey },
      ExpressionAttributeValues: { ":g": PULSES_GROUP },
    });
    return items.map(pulseOf);
  }
}

function pulseOf(item: Record<string, unknown>): Pulse {
  const list = item.missing;
  return {
    clusterId: String(item.cluster_id),
    series: String(item.series ?? ""),
    lastSeq: Number(item.last_seq ?? 0),
    missing: Array.isArray(list) ? list.map(Number) : [],
    gaps: Number(item.gaps ?? 0),
    lastEmittedAt: String(item.last_emitted_at ?? ""),
    lastDeliveredAt: String(item.last_delivered_at ?? ""),
    lagSeconds: Number(item.lag_seconds ?? 0),
    version: Number(item.version ?? 0),
  };
}
