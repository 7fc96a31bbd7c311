import { type DeliveryConfig, type DeliveryType, destinationRegion } from "../../shared/delivery-config";
import type { DestinationValidator } from "../../shared/destination-checks";
import type { CachedTenantConfigs } from "../admission/tenant-configs";
import { targetOf } from "../delivery/destinations";
import type { Deadline } from "../delivery/retry";
import { describeError, ObjectNotFoundError } from "../errors";
import type { DestinationState, ParkedEntry } from "../model/parked";
import type { ObjectSource, Telemetry } from "../ports";
import type { Parking } from "./parking";
import type { ParkedRedelivery } from "./redelivery";

export interface RecoveryOptions {
  /** Only this tenant's destinations. */
  readonly tenantId?: string;
  /** Only destinations of this type. */
  readonly type?: DeliveryType;
  /**
   * Probe an open destination before retrying it (the scheduled run). A retry by hand skips the
   * probe: the first redelivery is the test, and is parked again if the destination still refuses.
   */
  readonly probe: boolean;
  readonly deadline: Deadline;
}

/** What one run did for one destination. */
export interface DestinationRecovery {
  readonly tenantId: string;
  readonly type: DeliveryType;
  readonly target: string;
  /** The breaker's state when the run began. */
  readonly stateBefore: "closed" | "open";
  readonly probe?: { readonly ok: boolean; readonly detail: string };
  readonly delivered: number;
  readonly lost: number;
  /** Object times (ISO) of the first and last delivery lost in this run. */
  readonly lostRange?: { readonly from: string; readonly to: string };
  /** Parked deliveries still waiting after the run. */
  readonly stillParked: number;
  readonly closed: boolean;
  /** Why the run stopped before the destination was drained. */
  readonly stoppedBecause?: string;
}

const PAGE = 50;
/** Parked objects checked for expiry per destination and run while its probe fails. */
const EXPIRY_CHECKS = 100;

/**
 * Probes parked destinations and recovers them: when a destination works again, its parked
 * deliveries are delivered oldest first, one at a time (so each stream keeps its order), each
 * exactly once through the ledger, and then its breaker closes. Parked objects whose staging copy
 * is gone are recorded as lost, counted per destination with their time range, and announced.
 */
export class ParkedRecovery {
  constructor(
    private readonly redelivery: ParkedRedelivery,
    private readonly parking: Parking,
    private readonly validator: DestinationValidator,
    private readonly configs: CachedTenantConfigs,
    private readonly objects: Pick<ObjectSource, "identify">,
    private readonly telemetry: Telemetry,
    private readonly region: string,
  ) {}

  async run(options: RecoveryOptions): Promise<DestinationRecovery[]> {
    const all = await this.parking.store.destinations();
    const selected = all.filter(
      (d) =>
        (options.tenantId === undefined || d.tenantId === options.tenantId) &&
        (options.type === undefined || d.type === options.type),
    );
    const results: DestinationRecovery[] = [];
    for (const state of selected) {
      if (options.deadline.remainingMs() < 5_000) break;
      results.push(await this.recover(state, options));
    }
    return results;
  }

  private async recover(state: DestinationState, options: RecoveryOptions): Promise<DestinationRecovery> {
    const tally = new Tally();
    const config = await this.configFor(state);
    if (!config) {
      const reason = `destination ${state.target} is no longer in tenant ${state.tenantId}'s delivery config`;
      await this.drain(state, options, tally, () => reason);
      return this.finish(state, tally);
    }
    if (state.state === "open" && options.probe) {
      const probe = await this.probe(config);
      tally.probe = probe;
      await this.parking.store.recordProbe(state, probe);
      if (!probe.ok) {
        await this.checkExpiry(state, options, tally);
        tally.stoppedBecause = `probe failed: ${probe.detail}`;
        return this.finish(state, tally);
      }
    }
    await this.drain(state, options, tally);
    return this.finish(state, tally);
  }

  /** The tenant's config that still names this destination, if any. */
  private async configFor(state: DestinationState): Promise<DeliveryConfig | undefined> {
    const { valid } = await this.configs.forTenant(state.tenantId);
    return valid.find((c) => targetOf(c, destinationRegion(c, this.region)) === state.target);
  }

  private async probe(config: DeliveryConfig): Promise<{ ok: boolean; detail: string }> {
    try {
      const checks = await this.validator.validate(config);
      const failed = checks.find((c) => !c.ok);
      return failed
        ? { ok: false, detail: `${failed.check}: ${failed.detail}` }
        : { ok: true, detail: checks.map((c) => c.detail).join("; ") };
    } catch (error) {
      return { ok: false, detail: describeError(error) };
    }
  }

  /**
   * Redelivers the parked deliveries oldest first, until none is left, the destination refuses
   * again, or time runs out. With `loseAll`, each is recorded as lost for that reason instead.
   */
  private async drain(
    state: DestinationState,
    options: RecoveryOptions,
    tally: Tally,
    loseAll?: () => string,
  ): Promise<void> {
    for (;;) {
      const page = await this.parking.store.parked(state, PAGE);
      if (page.length === 0) {
        tally.drained = true;
        return;
      }
      const fresh = page.filter((e) => !tally.seen.has(e.id));
      if (fresh.length === 0) {
        // The index lags the table for a moment: what is left was handled in this run already.
        tally.stoppedBecause = "parked deliveries are being worked on elsewhere";
        return;
      }
      const before = tally.delivered + tally.lost;
      for (const entry of fresh) {
        tally.seen.add(entry.id);
        if (options.deadline.remainingMs() < 10_000) {
          tally.stoppedBecause = "out of time; the next run goes on";
          return;
        }
        const stop = loseAll
          ? await this.lose(entry, loseAll(), options, tally)
          : await this.redeliver(entry, options, tally);
        if (stop) {
          tally.stoppedBecause = stop;
          return;
        }
      }
      // Items that neither delivered nor settled (held by another attempt): leave them for later.
      if (tally.delivered + tally.lost === before) {
        tally.stoppedBecause = "parked deliveries are being worked on elsewhere";
        return;
      }
    }
  }

  /** One parked delivery; returns why to stop, or undefined to go on. */
  private async redeliver(entry: ParkedEntry, options: RecoveryOptions, tally: Tally) {
    const result = await this.redelivery.redeliver(entry, options.deadline);
    const d = result.destinations[0];
    switch (d?.status) {
      case "delivered":
      case "already_delivered":
        tally.delivered++;
        return undefined;
      case "lost":
        tally.lostOne(entry, d.reason ?? "lost");
        return undefined;
      case "parked":
        return `refused again: ${d.reason ?? "parked"}`;
      case "failed_transient":
      case "in_progress_elsewhere":
        return `left for the next run: ${d.reason ?? d.status}`;
      default:
        // Refused before a claim (tenant no longer registered, destination skipped by a changed
        // filter, config invalid): it can never be delivered, so it is settled as lost, with why.
        return this.lose(entry, d?.reason ?? result.reason ?? result.status, options, tally);
    }
  }

  private async lose(entry: ParkedEntry, reason: string, options: RecoveryOptions, tally: Tally) {
    try {
      if (await this.redelivery.lose(entry, reason, options.deadline)) tally.lostOne(entry, reason);
      return undefined;
    } catch (error) {
      return `could not record a lost delivery: ${describeError(error)}`;
    }
  }

  /** While a destination stays broken: parked objects already gone from staging are recorded as lost. */
  private async checkExpiry(state: DestinationState, options: RecoveryOptions, tally: Tally): Promise<void> {
    for (const entry of await this.parking.store.parked(state, EXPIRY_CHECKS)) {
      try {
        await this.objects.identify(entry.bucket, entry.key);
        return; // the oldest still there: the younger ones are too
      } catch (error) {
        if (!(error instanceof ObjectNotFoundError)) return;
        if (await this.lose(entry, error.message, options, tally)) return;
      }
    }
  }

  private async finish(state: DestinationState, tally: Tally): Promise<DestinationRecovery> {
    let closed = false;
    if (tally.drained) closed = await this.parking.close(state);
    const stillParked = tally.drained ? 0 : (await this.parking.store.parked(state)).length;
    if (tally.lost > 0 && tally.lostRange) {
      const { from, to } = tally.lostRange;
      const detail = `${tally.lost} parked object(s) from ${from} to ${to} could not be delivered and are lost: ${[...tally.lostReasons].join("; ")}.`;
      const lost = [{ name: "ObjectsLost", value: tally.lost, unit: "Count" as const }];
      this.telemetry.metrics({ tenant_id: state.tenantId, destination: state.type }, lost);
      this.telemetry.metrics({}, lost);
      await this.parking.announce(state, "lost", state, detail);
    }
    return {
      tenantId: state.tenantId,
      type: state.type,
      target: state.target,
      stateBefore: state.state,
      ...(tally.probe && { probe: tally.probe }),
      delivered: tally.delivered,
      lost: tally.lost,
      ...(tally.lostRange && { lostRange: tally.lostRange }),
      stillParked,
      closed,
      ...(tally.stoppedBecause && { stoppedBecause: tally.stoppedBecause }),
    };
  }
}

class Tally {
  delivered = 0;
  lost = 0;
  lostRange?: { from: string; to: string };
  readonly lostReasons = new Set<string>();
  readonly seen = new Set<string>();
  probe?: { ok: boolean; detail: string };
  drained = false;
  stoppedBecause?: string;

  lostOne(entry: ParkedEntry, reason: string): void {
    this.lost++;
    if (this.lostReasons.size < 3) this.lostReasons.add(reason);
    const t = entry.eventTime;
    this.lostRange = this.lostRange
      ? {
          from: t < this.lostRange.from ? t : this.lostRange.from,
          to: t > this.lostRange.to ? t : this.lostRange.to,
        }
      : { from: t, to: t };
  }
}
