import { isoTimeMs } from "../../shared/timestamps";
import type { DeliveryEngine } from "../delivery/engine";
import type { Deadline } from "../delivery/retry";
import type { ObjectRef } from "../intake/notification";
import type { ParkedEntry } from "../model/parked";
import { combineStatus, type ObjectResult } from "../reporting/outcome-report";

/** The object a parked entry names, as a notification would. */
export function refOfParked(entry: ParkedEntry): ObjectRef {
  return {
    bucket: entry.bucket,
    key: entry.key,
    eventTime: new Date(isoTimeMs(entry.eventTime) ?? Number.NaN),
    ...(entry.versionId && { versionId: entry.versionId }),
    ...(entry.eTag && { eTag: entry.eTag }),
    ...(entry.bytes !== undefined && { size: entry.bytes }),
  };
}

/**
 * The redelivery of a parked delivery, a use case of its own beside the delivery of new objects:
 * the same admission and destination plan, but only the parked destination, whose parked claim may
 * be taken, with no breaker in the way (the probe or the operator decided it works again), and
 * what can no longer be delivered is lost rather than failed.
 */
export class ParkedRedelivery {
  constructor(private readonly engine: DeliveryEngine) {}

  /** Delivers the parked object to its destination again; the result holds that destination only. */
  async redeliver(entry: ParkedEntry, deadline: Deadline): Promise<ObjectResult> {
    const ref = refOfParked(entry);
    const plan = await this.engine.plan(ref, deadline);
    let result: ObjectResult;
    if (!plan.admitted) {
      const { tenantId, status, reason } = plan.outcome;
      result = this.engine.objectResult(ref, tenantId, status, [], reason);
    } else {
      const planned = plan.destinations.find(
        (p) => ("job" in p ? p.job.destination.target : p.result.target) === entry.target,
      );
      const destinations = planned ? [await this.engine.runPlanned(planned, "parked", deadline)] : [];
      const status = combineStatus(destinations.map((d) => d.status));
      result = this.engine.objectResult(ref, plan.key.tenantId, status, destinations);
    }
    this.engine.report.object(result, { recovery: "parked" });
    return result;
  }

  /**
   * Settles a parked delivery that cannot be delivered any more (its destination was removed, the
   * tenant refused, the object gone): recorded as lost with the reason, never left waiting. False
   * when another attempt holds it.
   */
  lose(entry: ParkedEntry, reason: string, deadline: Deadline): Promise<boolean> {
    return this.engine.delivery.lose({ ...entry, reason }, deadline);
  }
}
