/**
 * What one destination has done with one object version so far: the one definition of the counts
 * that results, checkpoints, the ledger and the reports carry.
 */
export interface DeliveryCounts {
  readonly eventsDelivered: number;
  readonly eventsRejected: number;
  /** Events over the size limit, delivered split into several pieces (each piece counts as delivered). */
  readonly eventsSplit: number;
  readonly badLines: number;
  readonly bytes: number;
  readonly batches: number;
  /** Events the config's filter kept back (never sent, never a failure). */
  readonly eventsFiltered: number;
}

/** Every count's name, in the order the ledger stores them. */
export const COUNT_FIELDS = [
  "eventsDelivered",
  "eventsRejected",
  "eventsSplit",
  "badLines",
  "bytes",
  "batches",
  "eventsFiltered",
] as const satisfies readonly (keyof DeliveryCounts)[];

/** The counts of `c` only (a checkpoint or a result carries more), or all zero. */
export function countsOf(c?: DeliveryCounts): DeliveryCounts {
  return {
    eventsDelivered: c?.eventsDelivered ?? 0,
    eventsRejected: c?.eventsRejected ?? 0,
    eventsSplit: c?.eventsSplit ?? 0,
    badLines: c?.badLines ?? 0,
    bytes: c?.bytes ?? 0,
    batches: c?.batches ?? 0,
    eventsFiltered: c?.eventsFiltered ?? 0,
  };
}

/** What `now` adds to `before` (a resumed attempt reports only its own work in metrics). */
export function countsSince(now: DeliveryCounts, before: DeliveryCounts | undefined): DeliveryCounts {
  const b = countsOf(before);
  return {
    eventsDelivered: now.eventsDelivered - b.eventsDelivered,
    eventsRejected: now.eventsRejected - b.eventsRejected,
    eventsSplit: now.eventsSplit - b.eventsSplit,
    badLines: now.badLines - b.badLines,
    bytes: now.bytes - b.bytes,
    batches: now.batches - b.batches,
    eventsFiltered: now.eventsFiltered - b.eventsFiltered,
  };
}
