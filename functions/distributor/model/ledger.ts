import type { DeliveryCounts } from "./counts";

/** What identifies one version of an object: the version id where versioning is on, else the ETag. */
export interface ObjectIdentity {
  readonly versionId?: string;
  readonly eTag?: string;
}

/**
 * A destination's progress for one object version, written after every acknowledged batch. The
 * batches of an object are deterministic (same bytes, same limits, same accept-window clock), so a
 * later attempt re-reads and re-batches, but sends nothing up to `position`.
 */
export interface Checkpoint extends DeliveryCounts {
  /** Units (events, or pieces of split events, in reading order) covered by acknowledged batches. */
  readonly position: number;
  /** The clock the accept window was computed with, reused on resume so batches do not move. */
  readonly windowNowMs: number;
  /** Version of the reading and batching rules the batches were cut with. */
  readonly batching: string;
}

/** The ledger's answer to a claim on (object version, destination). */
export type Claim =
  | { readonly state: "claimed"; readonly checkpoint?: Checkpoint }
  | { readonly state: "complete" }
  | { readonly state: "busy"; readonly owner: string; readonly leaseUntilMs: number }
  | { readonly state: "parked"; readonly reason: string; readonly parkedAt: string }
  | { readonly state: "lost"; readonly reason: string };
