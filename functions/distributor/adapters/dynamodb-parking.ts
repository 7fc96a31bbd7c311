import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { LEDGER_PARKED_INDEX } from "../../shared/contract";
import { queryAll } from "../../shared/dynamodb-query";
import { hasErrorName } from "../../shared/errors";
import type { DestinationRef, DestinationState, LostEntry, ParkedEntry } from "../model/parked";
import type { ParkingStore } from "../ports";
import {
  DESTINATIONS_GROUP,
  destinationKey,
  destinationOrder,
  entryOf,
  KEY,
  ledgerTtl,
  lostGroup,
  parkedGroup,
  stateOf,
  TTL,
} from "./ledger-items";

/**
 * Destination records (the circuit breakers) and the parked deliveries, in the delivery ledger's
 * table: a record per destination that has parked something (layout: ./ledger-items.ts),
 * and the sparse index `parked` (partition `park_group`, sort `park_order`) that lists records and
 * each destination's parked and lost deliveries in time order. Records carry the ledger's `ttl`,
 * refreshed by every park, so quiet destinations age out with the deliveries they covered.
 */
export class DynamoDbParkingStore implements ParkingStore {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, "send">,
    private readonly table: string,
    private readonly ttlDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  async destination(ref: DestinationRef): Promise<DestinationState | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: destinationKey(ref) }));
    return out.Item ? stateOf(out.Item) : undefined;
  }

  async destinations(): Promise<DestinationState[]> {
    return (await this.query(DESTINATIONS_GROUP)).map(stateOf);
  }

  async parked(ref: DestinationRef, limit?: number): Promise<ParkedEntry[]> {
    return (await this.query(parkedGroup(ref), limit)).flatMap((i) => entryOf(i) ?? []);
  }

  async lost(ref: DestinationRef): Promise<LostEntry[]> {
    return (await this.query(lostGroup(ref))).flatMap((i) => {
      const entry = entryOf(i);
      return entry
        ? [{ ...entry, lostAt: String(i.lost_at ?? ""), lostReason: String(i.lost_reason ?? "") }]
        : [];
    });
  }

  async recordPark(
    ref: DestinationRef,
    reason: string,
    counted: { threshold: number } | undefined,
  ): Promise<{ state: DestinationState; opened: boolean }> {
    const now = this.iso();
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: destinationKey(ref),
        UpdateExpression:
          `SET tenant_id = :t, dest_type = :type, #target = :target, ${LEDGER_PARKED_INDEX.hashKey} = :group, ${LEDGER_PARKED_INDEX.rangeKey} = :order, ` +
          "#reason = :reason, last_parked_at = :now, #since = if_not_exists(#since, :now), " +
          `#state = if_not_exists(#state, :closed), #ttl = :ttl ADD streak :add`,
        // Placeholders for every name DynamoDB reserves (target, reason, since, state, ttl).
        ExpressionAttributeNames: {
          "#state": "state",
          "#ttl": TTL,
          "#target": "target",
          "#reason": "reason",
          "#since": "since",
        },
        ExpressionAttributeValues: {
          ":t": ref.tenantId,
          ":type": ref.type,
          ":target": ref.target,
          ":group": DESTINATIONS_GROUP,
          ":order": destinationOrder(ref),
          ":reason": reason,
          ":now": now,
          ":closed": "closed",
          ":ttl": ledgerTtl(this.now(), this.ttlDays),
          ":add": counted ? 1 : 0,
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    const state = stateOf(out.Attributes ?? {});
    if (!counted || state.state === "open" || state.streak < counted.threshold)
      return { state, opened: false };
    // Exactly one caller wins the transition, so the state change is announced once.
    const opened = await this.conditional(ref, "SET #state = :open, opened_at = :now", "#state = :closed", {
      ":open": "open",
      ":closed": "closed",
      ":now": now,
    });
    return { state: opened ? { ...state, state: "open", openedAt: now } : state, opened };
  }

  async recordSuccess(ref: DestinationRef): Promise<void> {
    await this.conditional(ref, "SET streak = :zero", "#state = :closed", {
      ":zero": 0,
      ":closed": "closed",
    });
  }

  async recordProbe(ref: DestinationRef, probe: { ok: boolean; detail: string }): Promise<void> {
    await this.conditional(
      ref,
      "SET probe_at = :now, probe_ok = :ok, probe_detail = :detail",
      `attribute_exists(${KEY})`,
      {
        ":now": this.iso(),
        ":ok": probe.ok,
        ":detail": probe.detail,
      },
    );
  }

  async close(ref: DestinationRef): Promise<boolean> {
    // Only one caller finds it open, so the recovery is announced once.
    return this.conditional(
      ref,
      "SET #state = :closed, streak = :zero, closed_at = :now REMOVE #since, opened_at",
      "#state = :open",
      { ":closed": "closed", ":open": "open", ":zero": 0, ":now": this.iso() },
    );
  }

  /** An update that may find its condition false (another process got there first): true when applied. */
  private async conditional(
    ref: DestinationRef,
    update: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: destinationKey(ref),
          UpdateExpression: update,
          ConditionExpression: condition,
          ...names(update + condition),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (hasErrorName(error, "ConditionalCheckFailedException")) return false;
      throw error;
    }
  }

  private query(group: string, limit?: number): Promise<Record<string, unknown>[]> {
    return queryAll(
      this.db,
      {
        TableName: this.table,
        IndexName: LEDGER_PARKED_INDEX.name,
        KeyConditionExpression: "#g = :g",
        ExpressionAttributeNames: { "#g": LEDGER_PARKED_INDEX.hashKey },
        ExpressionAttributeValues: { ":g": group },
        ScanIndexForward: true,
      },
      limit,
    );
  }
}

/** The placeholders an expression uses, for the reserved names it may contain. */
function names(expression: string) {
  const all: Record<string, string> = { "#state": "state", "#since": "since" };
  const used = Object.fromEntries(Object.entries(all).filter(([k]) => expression.includes(k)));
  return Object.keys(used).length > 0 ? { ExpressionAttributeNames: used } : {};
}
