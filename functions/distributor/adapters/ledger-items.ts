import { LEDGER_TABLE } from "../../shared/contract";
import { isDeliveryType } from "../../shared/delivery-config";
import { COUNT_FIELDS, type DeliveryCounts } from "../model/counts";
import type { Checkpoint } from "../model/ledger";
import type { DestinationRef, DestinationState, ParkedDelivery, ParkedEntry } from "../model/parked";

/**
 * The layout of the delivery ledger's items, in one place for the ledger and the parking store:
 *
 * - a delivery, one per (object version, destination): key `<bucket>/<key>#<version>|<target>`,
 *   `state` (`in_progress`, `complete`, `parked`, `lost`), `owner` and `lease_until` (epoch ms) of
 *   the current claim, the checkpoint (`cp_<count>`, `cp_position`, `cp_windowNowMs`, `batching`);
 *   parked and lost ones also carry what to deliver (PARKED_FIELDS) and join the parked index;
 * - a destination record, one per destination that parked something: key
 *   `destination#<tenant>#<target>`, its breaker (`state`, `streak`, `since`, `probe_*`), in the
 *   index partition `destinations`;
 * - a cluster's pulse, one per cluster with heartbeats: key `pulse#<cluster>`, in the index
 *   partition `pulses` (./dynamodb-pulse.ts).
 *
 * Every item has `ttl` (epoch seconds): the ledger's one expiry rule.
 */
export const { hashKey: KEY, ttlAttribute: TTL } = LEDGER_TABLE;

/** The key of a ledger item. */
export const itemKey = (id: string) => ({ [KEY]: id });

/** The `ttl` (epoch seconds) of a ledger item written at `nowMs`. */
export const ledgerTtl = (nowMs: number, days: number) => Math.floor(nowMs / 1000) + days * 86_400;

/** Index partitions: a destination's parked deliveries, its lost ones, and all destination records. */
export const parkedGroup = (d: DestinationRef) => `parked#${d.tenantId}#${d.target}`;
export const lostGroup = (d: DestinationRef) => `lost#${d.tenantId}#${d.target}`;
export const DESTINATIONS_GROUP = "destinations";
export const PULSES_GROUP = "pulses";

/** The key of a cluster's pulse. */
export const pulseKey = (clusterId: string) => `pulse#${clusterId}`;

/** Index order of a parked delivery: object time, then key (oldest first). */
export const parkOrder = (d: ParkedDelivery) => `${d.eventTime}|${d.key}`;

/** The key of a destination's record, and its order in the `destinations` partition. */
export const destinationKey = (d: DestinationRef) => itemKey(`destination#${d.tenantId}#${d.target}`);
export const destinationOrder = (d: DestinationRef) => `${d.tenantId}#${d.target}`;

/** A checkpoint's attributes: each count, the position and the accept-window clock. */
export const CHECKPOINT_FIELDS = [...COUNT_FIELDS, "position", "windowNowMs"] as const;
export const checkpointAttribute = (field: (typeof CHECKPOINT_FIELDS)[number]) => `cp_${field}`;

/** Placeholder values and the SET clause that store `fields` of `source` as checkpoint attributes. */
export function checkpointSet<F extends (typeof CHECKPOINT_FIELDS)[number]>(
  fields: readonly F[],
  source: Record<F, number>,
): { set: string; values: Record<string, number> } {
  const values: Record<string, number> = {};
  for (const f of fields) values[`:${f}`] = source[f];
  return { set: fields.map((f) => `${checkpointAttribute(f)} = :${f}`).join(", "), values };
}

/** The checkpoint an item holds, if it holds a whole one. */
export function readCheckpoint(item: Record<string, unknown>): Checkpoint | undefined {
  if (typeof item.batching !== "string") return undefined;
  const cp: Record<string, unknown> = { batching: item.batching };
  for (const f of CHECKPOINT_FIELDS) {
    const v = Number(item[checkpointAttribute(f)]);
    if (!Number.isFinite(v)) return undefined;
    cp[f] = v;
  }
  return cp as unknown as Checkpoint;
}

/** The counts a completed item holds (zeros where one is missing). */
export function readCounts(item: Record<string, unknown>): DeliveryCounts {
  const counts: Record<string, number> = {};
  for (const f of COUNT_FIELDS) counts[f] = Number(item[checkpointAttribute(f)] ?? 0) || 0;
  return counts as unknown as DeliveryCounts;
}

/** The attributes a parked item carries besides its state: enough to deliver it again. */
export function parkedFields(p: ParkedDelivery): Record<string, string | number> {
  return {
    tenant_id: p.tenantId,
    dest_type: p.type,
    target: p.target,
    bucket: p.bucket,
    object_key: p.key,
    event_time: p.eventTime,
    ...(p.versionId && { version_id: p.versionId }),
    ...(p.eTag && { etag: p.eTag }),
    ...(p.bytes !== undefined && { object_bytes: p.bytes }),
  };
}

const typeOf = (value: unknown) => (isDeliveryType(value) ? value : "cloudwatch");

/** A parked (or lost) item as an entry; undefined for items that never were parked. */
export function entryOf(item: Record<string, unknown>): ParkedEntry | undefined {
  if (typeof item.tenant_id !== "string" || typeof item.object_key !== "string") return undefined;
  return {
    id: String(item[KEY]),
    tenantId: item.tenant_id,
    type: typeOf(item.dest_type),
    target: String(item.target),
    bucket: String(item.bucket),
    key: item.object_key,
    eventTime: String(item.event_time),
    reason: String(item.park_reason ?? ""),
    parkedAt: String(item.parked_at ?? ""),
    ...(typeof item.version_id === "string" && { versionId: item.version_id }),
    ...(typeof item.etag === "string" && { eTag: item.etag }),
    ...(item.object_bytes !== undefined && { bytes: Number(item.object_bytes) }),
  };
}

/** A destination record as its breaker state. */
export function stateOf(item: Record<string, unknown>): DestinationState {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const probeAt = str(item.probe_at);
  const openedAt = str(item.opened_at);
  return {
    tenantId: String(item.tenant_id),
    type: typeOf(item.dest_type),
    target: String(item.target),
    state: item.state === "open" ? "open" : "closed",
    streak: Number(item.streak ?? 0),
    reason: String(item.reason ?? ""),
    since: str(item.since) ?? str(item.last_parked_at) ?? "",
    lastParkedAt: String(item.last_parked_at ?? ""),
    ...(openedAt && { openedAt }),
    ...(probeAt && {
      probe: { at: probeAt, ok: item.probe_ok === true, detail: String(item.probe_detail ?? "") },
    }),
  };
}
