/** One heartbeat line as the distributor reads it from an event's message. */
export interface Beat {
  readonly series: string;
  readonly seq: number;
  readonly emittedAtMs: number;
}

/**
 * A cluster's pulse, from the heartbeats delivered for it: the series it is in (new at every start
 * of its heartbeat pod), the last sequence number seen, the numbers skipped and not seen since, and
 * when the newest heartbeat was emitted and accepted.
 */
export interface Pulse {
  readonly clusterId: string;
  readonly series: string;
  readonly lastSeq: number;
  /** Sequence numbers of the series that were skipped and have not arrived since (at most MAX_MISSING). */
  readonly missing: readonly number[];
  /** Heartbeats lost on the way: skipped numbers that never arrived, over every series. */
  readonly gaps: number;
  readonly lastEmittedAt: string;
  readonly lastDeliveredAt: string;
  /** From the newest heartbeat's emit time to its delivery (accepted by CloudWatch Logs). */
  readonly lagSeconds: number;
  /** For conditional writes: the version this pulse was read at. */
  readonly version: number;
}

/** Skipped numbers remembered per cluster: late ones among them are taken back from the gaps. */
export const MAX_MISSING = 256;

/** What one delivery of heartbeats changed: the pulse after it, and what to count. */
export interface PulseChange {
  readonly pulse: Pulse;
  /** Heartbeats not seen before (a repeat of a delivered object adds none). */
  readonly newBeats: number;
  /** Change in gaps: numbers newly skipped less late ones that arrived. */
  readonly gapsAdded: number;
}

/**
 * The pulse after `beats` were delivered at `deliveredAtMs`. Within a series, a number past the
 * last opens a gap for each one skipped; a skipped number that arrives later closes its gap; a
 * number seen before changes nothing. A newer series (its heartbeats emitted after the last seen)
 * starts again from its first number; heartbeats of an older series change nothing.
 */
export function pulseAfter(
  previous: Pulse | undefined,
  clusterId: string,
  beats: readonly Beat[],
  deliveredAtMs: number,
): PulseChange | undefined {
  if (beats.length === 0) return undefined;
  const sorted = [...beats].sort((a, b) => a.emittedAtMs - b.emittedAtMs || a.seq - b.seq);
  let series = previous?.series;
  let lastSeq = previous?.lastSeq ?? 0;
  let missing = [...(previous?.missing ?? [])];
  let gaps = previous?.gaps ?? 0;
  let lastEmitted = previous ? Date.parse(previous.lastEmittedAt) : Number.NEGATIVE_INFINITY;
  let newBeats = 0;
  let newest: Beat | undefined;
  for (const beat of sorted) {
    if (beat.series !== series) {
      if (series !== undefined && beat.emittedAtMs <= lastEmitted) continue; // an older series
      series = beat.series;
      lastSeq = 0;
      missing = [];
    }
    if (beat.seq > lastSeq) {
      for (let n = lastSeq + 1; n < beat.seq; n++) missing.push(n);
      gaps += beat.seq - lastSeq - 1;
      lastSeq = beat.seq;
      newBeats++;
    } else {
      const at = missing.indexOf(beat.seq);
      if (at === -1) continue; // seen before
      missing.splice(at, 1);
      gaps--;
      newBeats++;
    }
    lastEmitted = Math.max(lastEmitted, beat.emittedAtMs);
    if (!newest || beat.emittedAtMs >= newest.emittedAtMs) newest = beat;
  }
  if (missing.length > MAX_MISSING) missing = missing.slice(-MAX_MISSING);
  if (series === undefined) return undefined;
  // Lag of the newest heartbeat this delivery brought; a delivery of known ones keeps the last lag.
  const lagSeconds = newest
    ? Math.max(0, Math.round((deliveredAtMs - newest.emittedAtMs) / 1000))
    : (previous?.lagSeconds ?? 0);
  const pulse: Pulse = {
    clusterId,
    series,
    lastSeq,
    missing,
    gaps,
    lastEmittedAt: new Date(lastEmitted).toISOString(),
    lastDeliveredAt: new Date(deliveredAtMs).toISOString(),
    lagSeconds,
    version: (previous?.version ?? 0) + 1,
  };
  return { pulse, newBeats, gapsAdded: gaps - (previous?.gaps ?? 0) };
}
