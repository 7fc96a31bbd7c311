import { classify, isBackpressure } from "../errors";

export interface RetryPolicy {
  /**
   * Attempts per call, including the first, for transient errors that are not back-pressure
   * (connection resets, unknown errors). Throttling, 5xx and timeouts are retried by time instead,
   * while a deadline allows (see withRetry). 1 means no retry.
   */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** The longest single wait between two attempts. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 };

export interface RetryHooks {
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The time an invocation has: Lambda's remaining time less a margin, the worker's per-message
 * budget (cut short on SIGTERM to the shutdown grace). Work checks it before each step.
 */
export class Deadline {
  constructor(
    private atMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  static after(ms: number, now: () => number = Date.now): Deadline {
    return new Deadline(now() + ms, now);
  }

  get at(): number {
    return this.atMs;
  }

  remainingMs(): number {
    return this.atMs - this.now();
  }

  /** Brings the deadline forward (never later): a shutdown leaves only its grace period. */
  shortenTo(atMs: number): void {
    this.atMs = Math.min(this.atMs, atMs);
  }
}

/** Delay before the attempt after `attempt`: exponential, capped, with full jitter. */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `operation`, retrying transient failures with exponential backoff and full jitter.
 * Back-pressure (throttling, 5xx, timeouts) is retried for as long as `deadline` leaves time for
 * the wait; without a deadline, and for other transient errors, at most `policy.maxAttempts`
 * attempts. Permanent failures and the last transient one are rethrown.
 */
export async function withRetry<T>(
  operation: () => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks = {},
  deadline?: Deadline,
): Promise<T> {
  const wait = hooks.sleep ?? sleep;
  const random = hooks.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (classify(error) === "permanent") throw error;
      const delay = backoffDelay(attempt, policy, random);
      const byTime = deadline !== undefined && isBackpressure(error);
      if (byTime ? delay >= deadline.remainingMs() : attempt >= policy.maxAttempts) throw error;
      hooks.onRetry?.(attempt, delay, error);
      await wait(delay);
    }
  }
}
