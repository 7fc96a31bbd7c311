import type { LogObjectKey } from "../admission/object-key";
import { BreakerOpenError, describeError, outcomeOf } from "../errors";
import type { ObjectRef } from "../intake/notification";
import { countsOf } from "../model/counts";
import type { ObjectIdentity } from "../model/ledger";
import type { DestinationRef, ParkedDelivery } from "../model/parked";
import type { Parking } from "../parking/parking";
import type { CredentialBroker, DeliveryLedger, ObjectSource, Telemetry } from "../ports";
import type { ObjectLimits } from "../reading/decompress";
import { objectEvents } from "../reading/object-events";
import type { DestinationResult } from "../reporting/outcome-report";
import { ClaimHandle, type ClaimOptions, ledgerId, newOwnerId, notClaimed, resumedFrom } from "./claims";
import type { Attempt, Destination } from "./destinations";
import { type DeliveryMode, disposition } from "./disposition";
import type { Deadline } from "./retry";

/** One destination of one object, ready to deliver: what the engine's admission produced. */
export interface DeliveryJob {
  readonly destination: Destination;
  readonly ref: ObjectRef;
  readonly key: LogObjectKey;
  /** The object's version, looked up once per object and shared by its destinations. */
  readonly identity: () => Promise<ObjectIdentity | undefined>;
}

export interface DestinationDeliveryDeps {
  readonly ledger: DeliveryLedger;
  readonly credentials: CredentialBroker;
  readonly objects: ObjectSource;
  readonly telemetry: Telemetry;
  /** Parks deliveries that fail on the customer's side; without it (or a durable ledger) they fail permanently. */
  readonly parking?: Parking;
  /** Runs one AWS call with the engine's retry policy, by time until `deadline`. */
  readonly call: <T>(operation: () => Promise<T>, deadline: Deadline) => Promise<T>;
  readonly claimLeaseMs: number;
  /** What one object may inflate to. @default DEFAULT_OBJECT_LIMITS */
  readonly objectLimits?: ObjectLimits;
  readonly now: () => number;
}

/** The claim on a delivery and the object version it names. */
interface Held {
  readonly claim: ClaimHandle;
  readonly identity: ObjectIdentity | undefined;
}

/**
 * One destination's delivery, isolated (whatever happens here is this destination's result only),
 * in three steps: acquire the claim on (object version, destination), run the destination under
 * it, settle the claim by the outcome (complete, or as `disposition` says: release, park, lose).
 */
export class DestinationDelivery {
  constructor(private readonly deps: DestinationDeliveryDeps) {}

  async run(job: DeliveryJob, mode: DeliveryMode, deadline: Deadline): Promise<DestinationResult> {
    const { type, target } = job.destination;
    let held: Held;
    try {
      const acquired = await this.acquire(job, mode, deadline);
      if (!("claim" in acquired)) return { type, target, ...countsOf(), ...notClaimed(acquired) };
      held = acquired;
    } catch (error) {
      return { type, target, ...countsOf(), ...outcomeOf(error) };
    }
    const attempt = await this.attempt(job, held, mode, deadline);
    return this.settle(job, held, attempt, mode);
  }

  /** Claims (object version, destination); a parked delivery's claim only when redelivering it. */
  private async acquire(job: DeliveryJob, mode: DeliveryMode, deadline: Deadline) {
    const identity = await job.identity();
    const acquired = await ClaimHandle.acquire({
      ...this.claimOptions(ledgerId(job.ref, identity, job.destination.target), deadline),
      ...(mode === "parked" && { takeParked: true }),
    });
    return acquired instanceof ClaimHandle ? { claim: acquired, identity } : acquired;
  }

  /** Runs the destination under the claim; every failure comes back in the attempt. */
  private async attempt(
    job: DeliveryJob,
    held: Held,
    mode: DeliveryMode,
    deadline: Deadline,
  ): Promise<Attempt> {
    try {
      // An open breaker parks new objects at once: no AssumeRole against a role known to refuse.
      const open = mode === "new" ? await this.parking()?.openBreaker(destinationRef(job)) : undefined;
      if (open)
        return {
          counts: countsOf(),
          error: new BreakerOpenError(`destination parked since ${open.since}: ${open.reason}`),
        };
      const session = await this.deps.credentials.destinationSession(job.destination.sessionRequest);
      const call = <T>(operation: () => Promise<T>) => this.deps.call(operation, deadline);
      return await job.destination.deliver({
        ref: job.ref,
        key: job.key,
        pin: held.identity,
        events: objectEvents(this.deps.objects, job.ref, held.identity, call, this.deps.objectLimits),
        session,
        claim: held.claim,
        deadline,
      });
    } catch (error) {
      return { counts: countsOf(), error };
    }
  }

  /** Completes the claim, or settles it as the failure's disposition says. */
  private async settle(
    job: DeliveryJob,
    { claim, identity }: Held,
    attempt: Attempt,
    mode: DeliveryMode,
  ): Promise<DestinationResult> {
    const { type, target } = job.destination;
    const result = (status: DestinationResult["status"], reason?: string): DestinationResult => ({
      type,
      target,
      ...attempt.counts,
      status,
      ...(reason !== undefined && { reason }),
      ...resumedFrom(claim),
      ...(attempt.shaping && { filtered: attempt.shaping.filtered, redactions: attempt.shaping.redactions }),
    });
    const dest = destinationRef(job);
    let failure = attempt.error;
    if (failure === undefined) {
      try {
        await claim.complete(attempt.counts);
        await this.parking()?.delivered(dest);
        return result("delivered");
      } catch (error) {
        failure = error;
      }
    }
    const reason = describeError(failure);
    const parking = this.parking();
    const next = disposition(failure, mode, parking !== undefined);
    if (next.action === "release") {
      await claim.release();
      return result(next.status, reason);
    }
    const aside = { ...dest, ...parkedObject(job.ref, identity), reason };
    try {
      if (next.action === "lose") {
        await claim.lose(aside);
        return result("lost", reason);
      }
      await claim.park(aside);
      await parking?.parked(dest, reason, next.counted);
      return result("parked", reason);
    } catch (bookkeeping) {
      // Not set aside (the ledger refused or timed out): never acknowledged as if it were; the
      // message is retried (then the DLQ), so nothing is lost.
      await claim.release();
      const what = next.action === "lose" ? "recorded as lost" : "parked";
      return result(
        "failed_transient",
        `${reason}; and it could not be ${what}: ${describeError(bookkeeping)}`,
      );
    }
  }

  /**
   * Records a parked delivery as lost without delivering it (its destination was removed, the
   * tenant refused, the object gone): false when another attempt holds it.
   */
  async lose(entry: ParkedDelivery & { readonly id: string }, deadline: Deadline): Promise<boolean> {
    const acquired = await ClaimHandle.acquire({
      ...this.claimOptions(entry.id, deadline),
      takeParked: true,
    });
    if (!(acquired instanceof ClaimHandle)) return false;
    await acquired.lose(entry);
    return true;
  }

  /** Parking works only over a durable ledger: without one, nothing can be set aside. */
  private parking(): Parking | undefined {
    return this.deps.ledger.durable ? this.deps.parking : undefined;
  }

  private claimOptions(id: string, deadline: Deadline): ClaimOptions {
    return {
      ledger: this.deps.ledger,
      id,
      owner: newOwnerId(),
      leaseMs: this.deps.claimLeaseMs,
      telemetry: this.deps.telemetry,
      call: <T>(operation: () => Promise<T>) => this.deps.call(operation, deadline),
      now: this.deps.now,
    };
  }
}

const destinationRef = (job: DeliveryJob): DestinationRef => ({
  tenantId: job.key.tenantId,
  type: job.destination.type,
  target: job.destination.target,
});

/** What a parked item must carry to be delivered again: the object, its version and time. */
function parkedObject(ref: ObjectRef, identity: ObjectIdentity | undefined) {
  return {
    bucket: ref.bucket,
    key: ref.key,
    eventTime: ref.eventTime.toISOString(),
    ...(identity?.versionId && { versionId: identity.versionId }),
    ...(identity?.eTag && { eTag: identity.eTag }),
    ...(ref.size !== undefined && { bytes: ref.size }),
  };
}
