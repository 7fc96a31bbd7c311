import type { DeliveryType } from "../../shared/delivery-config";

/** A destination of one tenant, as the parking records name it. */
export interface DestinationRef {
  readonly tenantId: string;
  readonly type: DeliveryType;
  /** `cloudwatch:<region>:<account>:<log group>` or `s3://<bucket>/<prefix>`. */
  readonly target: string;
}

/** A delivery set aside until its destination works again: what to deliver, and why it waits. */
export interface ParkedDelivery extends DestinationRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly eTag?: string;
  /** The object's time (ISO): parked objects are delivered oldest first. */
  readonly eventTime: string;
  readonly bytes?: number;
  readonly reason: string;
}

export interface ParkedEntry extends ParkedDelivery {
  /** The ledger id of (object version, destination). */
  readonly id: string;
  /** When it was first parked (ISO). */
  readonly parkedAt: string;
}

/** A parked delivery whose staged object expired (or was deleted) before it could be delivered. */
export interface LostEntry extends ParkedEntry {
  readonly lostAt: string;
  readonly lostReason: string;
}

/** One destination's parking record: its circuit breaker and the episode it is in. */
export interface DestinationState extends DestinationRef {
  /** `open`: new objects are parked at once, without calling AWS, until a probe passes. */
  readonly state: "closed" | "open";
  /** Deliveries parked in a row (reset by a delivery that works). */
  readonly streak: number;
  readonly reason: string;
  /** First park of this episode (ISO). */
  readonly since: string;
  readonly lastParkedAt: string;
  readonly openedAt?: string;
  readonly probe?: { readonly at: string; readonly ok: boolean; readonly detail: string };
}
