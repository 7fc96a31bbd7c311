import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { ClaimLostError, describeError } from "./errors";
import type { Checkpoint, Claim, DeliveryCounts, DeliveryLedger, Telemetry } from "./ports";

/** A unique owner name per attempt, readable in the ledger: host, process and a random part. */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export interface ClaimOptions {
  readonly ledger: DeliveryLedger;
  readonly id: string;
  readonly owner: string;
  readonly leaseMs: number;
  readonly telemetry: Telemetry;
  /** Wraps each ledger call (retries by time). */
  readonly call: <T>(operation: () => Promise<T>) => Promise<T>;
}

/**
 * One attempt's hold on (object version, destination). While held, the lease is renewed every
 * third of its length; a failed renewal that says the claim was taken marks it lost, and the
 * destination stops before its next send (`assertHeld`).
 */
export class ClaimHandle {
  private lost?: ClaimLostError;
  private timer?: NodeJS.Timeout;

  private constructor(
    private readonly options: ClaimOptions,
    readonly checkpoint: Checkpoint | undefined,
  ) {}

  /** Claims the destination: a handle when ours, else what stands in the way. */
  static async acquire(options: ClaimOptions): Promise<ClaimHandle | Exclude<Claim, { state: "claimed" }>> {
    const { ledger, id, owner, leaseMs } = options;
    const claim = await options.call(() => ledger.claim(id, owner, leaseMs));
    if (claim.state !== "claimed") return claim;
    const handle = new ClaimHandle(options, claim.checkpoint);
    if (ledger.durable) handle.startRenewal();
    return handle;
  }

  private startRenewal(): void {
    const { ledger, id, owner, leaseMs, telemetry } = this.options;
    this.timer = setInterval(
      () => {
        ledger.renew(id, owner, leaseMs).catch((error) => {
          if (error instanceof ClaimLostError) this.lost = error;
          else telemetry.log("warn", "could not renew a delivery claim", { id, error: describeError(error) });
        });
      },
      Math.max(1_000, Math.floor(leaseMs / 3)),
    );
    this.timer.unref();
  }

  /** Throws when another attempt has taken the claim over: nothing more may be sent. */
  assertHeld(): void {
    if (this.lost) throw this.lost;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    this.assertHeld();
    const { ledger, id, owner, leaseMs } = this.options;
    await this.options.call(() => ledger.checkpoint(id, owner, checkpoint, leaseMs));
  }

  async complete(counts: DeliveryCounts): Promise<void> {
    this.stop();
    const { ledger, id, owner } = this.options;
    await this.options.call(() => ledger.complete(id, owner, counts));
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
