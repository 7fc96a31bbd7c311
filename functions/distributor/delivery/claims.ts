import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { ClaimedElsewhereError, ClaimLostError, describeError, outcomeOf } from "../errors";
import type { ObjectRef } from "../intake/notification";
import type { DeliveryCounts } from "../model/counts";
import type { Checkpoint, Claim, ObjectIdentity } from "../model/ledger";
import type { ParkedDelivery } from "../model/parked";
import type { DeliveryLedger, Telemetry } from "../ports";

/**
 * The same object version must get the same ledger id whether it arrives by S3 notification,
 * DLQ redrive, replay or a manual run: version id, else ETag (quotes stripped), else a HEAD's.
 */
export function ledgerId(ref: ObjectRef, identity: ObjectIdentity | undefined, target: string): string {
  const version = identity?.versionId ? `v:${identity.versionId}` : `e:${identity?.eTag ?? "unknown"}`;
  return `${ref.bucket}/${ref.key}#${version}|${target}`;
}

const strip = (eTag: string) => eTag.replace(/"/g, "");

/** The identity a notification carries (version id, else ETag), if any. */
export function knownIdentity(ref: ObjectRef): ObjectIdentity | undefined {
  if (ref.versionId) return { versionId: ref.versionId };
  if (ref.eTag) return { eTag: strip(ref.eTag) };
  return undefined;
}

/** The identity of an object found by a HEAD (manual runs and replays carry none). */
export function identityOf(ref: ObjectRef, found: ObjectIdentity): ObjectIdentity {
  if (found.versionId) return { versionId: found.versionId };
  if (found.eTag) return { eTag: strip(found.eTag) };
  throw new Error(`s3://${ref.bucket}/${ref.key} has neither version id nor ETag`);
}

/** A unique owner name per attempt, readable in the ledger: host, process and a random part. */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export interface ClaimOptions {
  readonly ledger: DeliveryLedger;
  readonly id: string;
  readonly owner: string;
  readonly leaseMs: number;
  /** Claims a parked delivery too (the retry of parked deliveries). */
  readonly takeParked?: boolean;
  readonly telemetry: Telemetry;
  /** Wraps each ledger call (retries by time). */
  readonly call: <T>(operation: () => Promise<T>) => Promise<T>;
  readonly now?: () => number;
}

/**
 * One attempt's hold on (object version, destination). While held, the lease is renewed every
 * third of its length; a failed renewal that says the claim was taken marks it lost, and the
 * destination stops before its next send (`ensureHeld`).
 */
export class ClaimHandle {
  private lost?: ClaimLostError;
  private timer?: NodeJS.Timeout;
  /** Until when the lease is ours for sure (last write that extended it, plus the lease). */
  private heldUntil: number;
  private readonly now: () => number;

  private constructor(
    private readonly options: ClaimOptions,
    readonly checkpoint: Checkpoint | undefined,
  ) {
    this.now = options.now ?? Date.now;
    this.heldUntil = this.now() + options.leaseMs;
  }

  /** Claims the destination: a handle when ours, else what stands in the way. */
  static async acquire(options: ClaimOptions): Promise<ClaimHandle | Exclude<Claim, { state: "claimed" }>> {
    const { ledger, id, owner, leaseMs } = options;
    const claim = await options.call(() =>
      ledger.claim(id, owner, leaseMs, options.takeParked ? { takeParked: true } : {}),
    );
    if (claim.state !== "claimed") return claim;
    const handle = new ClaimHandle(options, claim.checkpoint);
    if (ledger.durable) handle.startRenewal();
    return handle;
  }

  private startRenewal(): void {
    const { id, leaseMs, telemetry } = this.options;
    this.timer = setInterval(
      () => {
        this.renew().catch((error) => {
          if (!(error instanceof ClaimLostError))
            telemetry.log("warn", "could not renew a delivery claim", { id, error: describeError(error) });
        });
      },
      Math.max(1_000, Math.floor(leaseMs / 3)),
    );
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const { ledger, id, owner, leaseMs } = this.options;
    const asked = this.now();
    try {
      await ledger.renew(id, owner, leaseMs);
      this.heldUntil = asked + leaseMs;
    } catch (error) {
      if (error instanceof ClaimLostError) this.lost = error;
      throw error;
    }
  }

  /** Throws when another attempt has taken the claim over: nothing more may be sent. */
  private assertHeld(): void {
    if (this.lost) throw this.lost;
  }

  /**
   * Before a send: the claim must be ours and stay ours while the send runs. With less than half
   * the lease left (renewals delayed by a busy process or a slow ledger), it is renewed first, so
   * a live owner is never overtaken between two sends.
   */
  async ensureHeld(): Promise<void> {
    this.assertHeld();
    if (!this.options.ledger.durable) return;
    if (this.heldUntil - this.now() < this.options.leaseMs / 2) await this.options.call(() => this.renew());
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    this.assertHeld();
    const { ledger, id, owner, leaseMs } = this.options;
    const asked = this.now();
    await this.options.call(() => ledger.checkpoint(id, owner, checkpoint, leaseMs));
    this.heldUntil = asked + leaseMs;
  }

  async complete(counts: DeliveryCounts): Promise<void> {
    this.stop();
    const { ledger, id, owner } = this.options;
    await this.options.call(() => ledger.complete(id, owner, counts));
  }

  /** Sets the delivery aside until its destination works again (the checkpoint stays). */
  async park(parked: ParkedDelivery): Promise<void> {
    this.stop();
    const { ledger, id, owner } = this.options;
    await this.options.call(() => ledger.park(id, owner, parked));
  }

  /** Records a parked delivery as lost: its staged object is gone. */
  async lose(lost: ParkedDelivery): Promise<void> {
    this.stop();
    const { ledger, id, owner } = this.options;
    await this.options.call(() => ledger.lose(id, owner, lost));
  }

  /** Lets the next attempt in at once; the checkpoint stays. Best effort: the lease expires anyway. */
  async release(): Promise<void> {
    this.stop();
    const { ledger, id, owner, telemetry } = this.options;
    await ledger.release(id, owner).catch((error) => {
      telemetry.log("warn", "could not release a delivery claim; it expires with its lease", {
        id,
        error: describeError(error),
      });
    });
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The outcome of a destination whose claim was not ours: done before, or held by a live attempt. */
export function notClaimed(claim: Exclude<Claim, { state: "claimed" }>) {
  if (claim.state === "complete") return { status: "already_delivered" as const };
  if (claim.state === "parked")
    return { status: "parked" as const, reason: `parked since ${claim.parkedAt}: ${claim.reason}` };
  if (claim.state === "lost") return { status: "lost" as const, reason: claim.reason };
  const until = new Date(claim.leaseUntilMs).toISOString();
  const held = new ClaimedElsewhereError(`claimed by ${claim.owner} until ${until}; left for retry`);
  return { status: "in_progress_elsewhere" as const, reason: outcomeOf(held).reason };
}

/** The checkpoint an attempt resumed from, for the report (metrics count only what is new). */
export function resumedFrom(claim: ClaimHandle | undefined): { resumedFrom?: Checkpoint } {
  return claim?.checkpoint ? { resumedFrom: claim.checkpoint } : {};
}
