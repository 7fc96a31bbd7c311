import { BreakerOpenError, classify, type FailureStatus, isCustomerSide } from "../errors";

/**
 * Which use case a delivery runs in: a new object from the queue, or the redelivery of one parked
 * earlier (its parked claim may be taken; what can never be delivered is lost, not failed).
 */
export type DeliveryMode = "new" | "parked";

/** What becomes of a claimed delivery that did not complete. */
export type Disposition =
  /** Set aside until the destination works again (acknowledged); `counted` toward the breaker. */
  | { readonly action: "park"; readonly counted: boolean }
  /** A parked delivery that can never be delivered: recorded as lost, with why. */
  | { readonly action: "lose" }
  /** The claim is given up: a transient failure is retried, a permanent one recorded. */
  | { readonly action: "release"; readonly status: FailureStatus };

/**
 * The one rule for a failed delivery, by what failed and in which mode (the table in the tests):
 *
 * | failure                      | new, can park      | new, cannot park   | parked         |
 * |------------------------------|--------------------|--------------------|----------------|
 * | transient                    | release: transient | release: transient | release: transient |
 * | customer side                | park (counted)     | release: permanent | park (counted) |
 * | breaker open                 | park (not counted) | release: permanent | park (not counted) |
 * | permanent, platform's own    | release: permanent | release: permanent | lose           |
 *
 * A delivery can park only with a durable ledger and parking; without them the customer's refusal
 * is a permanent failure like the platform's own.
 */
export function disposition(error: unknown, mode: DeliveryMode, canPark: boolean): Disposition {
  if (classify(error) === "transient") return { action: "release", status: "failed_transient" };
  if (isCustomerSide(error)) {
    if (canPark) return { action: "park", counted: !(error instanceof BreakerOpenError) };
    return { action: "release", status: "failed_permanent" };
  }
  return mode === "parked" ? { action: "lose" } : { action: "release", status: "failed_permanent" };
}
