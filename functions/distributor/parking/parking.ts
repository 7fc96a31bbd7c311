import { PromiseCache } from "../../shared/promise-cache";
import { isoTimeMs } from "../../shared/timestamps";
import { describeError } from "../errors";
import type { DestinationRef, DestinationState } from "../model/parked";
import type { Notifier, ParkingStore, StagingExpiry, Telemetry } from "../ports";

export interface ParkingSettings {
  /** Deliveries parked in a row after which the destination's breaker opens. @default 3 */
  readonly threshold?: number;
  /** How long a process trusts its copy of a destination record. @default 15000 */
  readonly cacheMs?: number;
  /** How long staging buckets keep objects: said in notices, and when a parked object expires. */
  readonly stagingExpiry?: StagingExpiry;
  /** The staging bucket whose expiry notices quote. */
  readonly stagingBucket?: string;
}

const refKey = (ref: DestinationRef) => `${ref.tenantId}#${ref.target}`;

/** What the customer must fix, by destination type: said in every notice. */
export function customerFix(ref: DestinationRef): string {
  return ref.type === "cloudwatch"
    ? "The role in the tenant's account must trust logrelay's central role with the config's ExternalId, and allow " +
        "creating and writing the log group (check its resource policy and, if encrypted, its KMS key)."
    : "The role in the tenant's account must trust logrelay's central role with the config's ExternalId, and the " +
        "bucket must exist and allow the role's s3:PutObject (check the bucket policy and its KMS key).";
}

/**
 * Parked deliveries and each destination's circuit breaker: after `threshold` deliveries parked in
 * a row the breaker opens and new objects for that destination are parked without calling AWS,
 * until a probe (or a retry by hand) finds the destination working again. Each state change is
 * announced once, on the alarm topic, with the tenant and destination as message attributes.
 */
export class Parking {
  private readonly cache: PromiseCache<DestinationState | undefined>;
  readonly threshold: number;

  constructor(
    readonly store: ParkingStore,
    private readonly notifier: Notifier,
    private readonly telemetry: Telemetry,
    private readonly settings: ParkingSettings = {},
    now: () => number = Date.now,
  ) {
    this.threshold = settings.threshold ?? 3;
    this.cache = new PromiseCache(settings.cacheMs ?? 15_000, now);
  }

  /** The destination's record when its breaker is open (from a cache refreshed every `cacheMs`). */
  async openBreaker(ref: DestinationRef): Promise<DestinationState | undefined> {
    const state = await this.cache.get(refKey(ref), () => this.store.destination(ref));
    return state?.state === "open" ? state : undefined;
  }

  /**
   * A delivery was parked. A failed one (`failed`) counts in the destination's streak, and the call
   * that opens the breaker announces it; one parked by an open breaker only keeps the record fresh.
   * Bookkeeping only: a failure here is logged, the delivery is parked anyway.
   */
  async parked(ref: DestinationRef, reason: string, failed: boolean): Promise<void> {
    const parked = [{ name: "ObjectsParked", value: 1, unit: "Count" as const }];
    this.telemetry.metrics({ tenant_id: ref.tenantId, destination: ref.type }, parked);
    this.telemetry.metrics({}, parked);
    try {
      const counted = failed ? { threshold: this.threshold } : undefined;
      const { state, opened } = await this.store.recordPark(ref, reason, counted);
      this.cache.set(refKey(ref), state);
      if (opened) await this.announce(ref, "open", state, reason);
    } catch (error) {
      this.telemetry.log("warn", "could not count a parked delivery", {
        ...fields(ref),
        error: describeError(error),
      });
    }
  }

  /** A delivery worked: a streak of parks (not yet a breaker) starts again. */
  async delivered(ref: DestinationRef): Promise<void> {
    const state = await this.cache.get(refKey(ref), () => this.store.destination(ref)).catch(() => undefined);
    if (!state || state.state === "open" || state.streak === 0) return;
    try {
      await this.store.recordSuccess(ref);
      this.cache.set(refKey(ref), { ...state, streak: 0 });
    } catch (error) {
      this.telemetry.log("warn", "could not reset a destination's park streak", {
        ...fields(ref),
        error: describeError(error),
      });
    }
  }

  /** Closes the breaker; announces it when this call found it open. */
  async close(state: DestinationState): Promise<boolean> {
    const wasOpenAndClosed = await this.store.close(state);
    if (wasOpenAndClosed) {
      this.cache.set(refKey(state), { ...state, state: "closed", streak: 0 });
      await this.announce(
        state,
        "closed",
        state,
        "the destination works again; parked objects were delivered",
      );
    }
    return wasOpenAndClosed;
  }

  /**
   * Every destination with parked or lost deliveries, or an open breaker (optionally one tenant's):
   * what waits, since when, how much, and when the oldest expires.
   */
  async summary(filter: { tenantId?: string } = {}): Promise<ParkedSummary[]> {
    const states = (await this.store.destinations()).filter(
      (d) => filter.tenantId === undefined || d.tenantId === filter.tenantId,
    );
    const rows: ParkedSummary[] = [];
    for (const d of states) {
      const [parked, lost] = await Promise.all([this.store.parked(d), this.store.lost(d)]);
      if (parked.length === 0 && lost.length === 0 && d.state === "closed") continue;
      const oldest = parked[0];
      const days = oldest && (await this.expiryDays(oldest.bucket));
      const times = lost.map((l) => l.eventTime).sort();
      const since = parked.map((p) => p.parkedAt).sort()[0];
      rows.push({
        tenantId: d.tenantId,
        type: d.type,
        target: d.target,
        breaker: d.state,
        reason: d.reason,
        ...(since && { since }),
        objects: parked.length,
        bytes: parked.reduce((sum, p) => sum + (p.bytes ?? 0), 0),
        ...(oldest && { oldest: oldest.eventTime }),
        ...(oldest &&
          days !== undefined && {
            oldestExpires: new Date((isoTimeMs(oldest.eventTime) ?? 0) + days * 86_400_000).toISOString(),
          }),
        lost: lost.length,
        ...(times.length > 0 && { lostRange: { from: times[0] as string, to: times.at(-1) as string } }),
        ...(d.probe && { probe: d.probe }),
      });
    }
    return rows.sort((a, b) => `${a.tenantId}${a.target}`.localeCompare(`${b.tenantId}${b.target}`));
  }

  private async expiryDays(bucket: string | undefined): Promise<number | undefined> {
    if (!bucket || !this.settings.stagingExpiry) return undefined;
    return this.settings.stagingExpiry.expiryDays(bucket).catch(() => undefined);
  }

  /** Tells the alarm topic; a failure to tell is logged (the state is in the ledger either way). */
  async announce(
    ref: DestinationRef,
    change: "open" | "closed" | "lost",
    state: DestinationState,
    detail: string,
  ) {
    const subject =
      change === "open"
        ? `logrelay: ${ref.tenantId} ${ref.type} destination parked`
        : change === "closed"
          ? `logrelay: ${ref.tenantId} ${ref.type} destination recovered`
          : `logrelay: ${ref.tenantId} ${ref.type} parked logs lost by expiry`;
    const expiry = await this.expiryDays(this.settings.stagingBucket);
    const lines = [
      `Tenant: ${ref.tenantId}`,
      `Destination: ${ref.target}`,
      change === "open"
        ? `Since ${state.since}, deliveries to it fail for a reason on the tenant's side: ${detail}`
        : detail,
      ...(change === "open"
        ? [
            "New logs for it are parked, not dropped, and are delivered in order, once, as soon as it works again (probed every few minutes).",
            expiry !== undefined
              ? `Logs parked for more than ${expiry} days expire with the staging bucket and are lost.`
              : "Logs parked for longer than the staging bucket keeps them are lost.",
            `To fix: ${customerFix(ref)}`,
          ]
        : []),
    ];
    this.telemetry.log(
      change === "closed" ? "info" : "error",
      `destination ${change === "open" ? "parked" : change === "closed" ? "recovered" : "lost logs"}`,
      {
        ...fields(ref),
        detail,
      },
    );
    try {
      await this.notifier.notify(subject, lines.join("\n"), {
        tenant_id: ref.tenantId,
        destination_type: ref.type,
        state: change,
      });
    } catch (error) {
      this.telemetry.log("warn", "could not publish a destination state change", {
        ...fields(ref),
        error: describeError(error),
      });
    }
  }
}

/** One destination's parked state, as `logrelay parked list` shows it. */
export interface ParkedSummary extends DestinationRef {
  readonly breaker: "closed" | "open";
  readonly reason: string;
  /** Since when deliveries wait (the oldest parked object's first park). */
  readonly since?: string;
  readonly objects: number;
  readonly bytes: number;
  /** Object time of the oldest parked object. */
  readonly oldest?: string;
  /** When the oldest parked object's staging copy expires (then it is lost), if the bucket says. */
  readonly oldestExpires?: string;
  readonly lost: number;
  readonly lostRange?: { readonly from: string; readonly to: string };
  readonly probe?: DestinationState["probe"];
}

const fields = (ref: DestinationRef) => ({ tenant_id: ref.tenantId, type: ref.type, target: ref.target });
