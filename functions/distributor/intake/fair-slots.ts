/**
 * How many of `capacity` slots one tenant may hold: a quarter (at least one), so a tenant with a
 * huge object or a slow destination leaves three quarters to the others. The Lambda handler's batch
 * and the worker's slots share this rule.
 */
export function tenantShare(capacity: number): number {
  return Math.max(1, Math.ceil(capacity / 4));
}

/**
 * Runs tasks with at most `capacity` in flight and at most `perKey` of one key (a tenant): a
 * tenant with a huge object or a slow destination holds at most its share, the others go on. Tasks
 * over a cap wait in arrival order and start as soon as a slot and their key allow.
 */
export class FairSlots {
  private running = 0;
  private readonly perKeyRunning = new Map<string, number>();
  private readonly waiting: { key: string; start: () => void; cancel: () => void }[] = [];
  private readonly idle = new Set<() => void>();

  constructor(
    readonly capacity: number,
    readonly perKey: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`capacity must be at least 1, got ${capacity}`);
    if (!Number.isInteger(perKey) || perKey < 1) throw new Error(`perKey must be at least 1, got ${perKey}`);
  }

  /** Tasks accepted and not finished (running or waiting). */
  get held(): number {
    return this.running + this.waiting.length;
  }

  /** How many more tasks may be accepted without exceeding the capacity. */
  get free(): number {
    return Math.max(0, this.capacity - this.held);
  }

  /** Tasks of `key` accepted but not started (held back by its cap or by the capacity). */
  waitingFor(key: string): number {
    return this.waiting.filter((w) => w.key === key).length;
  }

  /** Resolves once a task may be accepted (at once when one may). */
  whenFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Resolves when nothing is running or waiting. */
  async drained(): Promise<void> {
    while (this.held > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /**
   * Accepts a task: it starts now or when its key and a slot allow. A task still waiting when
   * `cancelWaiting` is called never starts; its promise resolves with `cancelled()` instead.
   */
  run<T>(key: string, task: () => Promise<T>, cancelled: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        this.perKeyRunning.set(key, (this.perKeyRunning.get(key) ?? 0) + 1);
        task()
          .then(resolve, reject)
          .finally(() => this.finish(key));
      };
      const cancel = () => cancelled().then(resolve, reject);
      if (this.canStart(key)) start();
      else this.waiting.push({ key, start, cancel });
    });
  }

  /** The tasks that have not started never will (shutdown): each resolves through its `cancelled`. */
  cancelWaiting(): number {
    const cancelled = this.waiting.splice(0);
    for (const w of cancelled) w.cancel();
    this.wake();
    return cancelled.length;
  }

  private canStart(key: string): boolean {
    return this.running < this.capacity && (this.perKeyRunning.get(key) ?? 0) < this.perKey;
  }

  private finish(key: string): void {
    this.running--;
    const left = (this.perKeyRunning.get(key) ?? 1) - 1;
    if (left === 0) this.perKeyRunning.delete(key);
    else this.perKeyRunning.set(key, left);
    const next = this.waiting.findIndex((w) => this.canStart(w.key));
    if (next >= 0) this.waiting.splice(next, 1)[0]?.start();
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.idle];
    this.idle.clear();
    for (const w of waiters) w();
  }
}
