/** Which waiting task takes a free slot. */
export type SlotOrder =
  /** The task of the key (tenant) with the fewest running, then the oldest: a flood cannot crowd out a quiet tenant. */
  | "fair"
  /** The oldest task, whoever it belongs to (queue order). */
  | "arrival";

interface Waiting {
  readonly seq: number;
  readonly start: () => void;
  readonly cancel: () => void;
}

/**
 * Runs tasks with at most `capacity` in flight. Tasks over it wait; a freed slot goes to the
 * waiting task `order` picks. Work-conserving: a key may hold every slot while no other key's task
 * waits, so a flood alone runs at full speed, and the next slot that frees goes to a tenant
 * with fewer running. `perKey` optionally caps one key's running tasks outright.
 */
export class FairSlots {
  private running = 0;
  private waitingCount = 0;
  private seq = 0;
  private readonly runningOf = new Map<string, number>();
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly capacity: number,
    private readonly options: { readonly order?: SlotOrder; readonly perKey?: number } = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`capacity must be at least 1, got ${capacity}`);
    const perKey = options.perKey;
    if (perKey !== undefined && (!Number.isInteger(perKey) || perKey < 1))
      throw new Error(`perKey must be at least 1, got ${perKey}`);
  }

  /** Tasks accepted and not finished (running or waiting). */
  get held(): number {
    return this.running + this.waitingCount;
  }

  /** Tasks accepted and not started. */
  get waitingTotal(): number {
    return this.waitingCount;
  }

  /** Tasks of `key` accepted and not started. */
  waitingFor(key: string): number {
    return this.waiting.get(key)?.length ?? 0;
  }

  /** Resolves at the next start, finish or cancel. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.listeners.add(resolve));
  }

  /** Resolves when nothing is running or waiting. */
  async drained(): Promise<void> {
    while (this.held > 0) await this.changed();
  }

  /**
   * Accepts a task: it starts now or when a slot frees and it is picked. A task still waiting when
   * `cancelWaiting` is called never starts; its promise resolves with `cancelled()` instead.
   */
  run<T>(key: string, task: () => Promise<T>, cancelled: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        this.runningOf.set(key, (this.runningOf.get(key) ?? 0) + 1);
        task()
          .then(resolve, reject)
          .finally(() => this.finish(key));
      };
      const cancel = () => cancelled().then(resolve, reject);
      if (this.running < this.capacity && this.underCap(key)) {
        start();
        this.notify();
        return;
      }
      const line = this.waiting.get(key) ?? [];
      line.push({ seq: this.seq++, start, cancel });
      this.waiting.set(key, line);
      this.waitingCount++;
    });
  }

  /** The tasks that have not started never will (shutdown): each resolves through its `cancelled`. */
  cancelWaiting(): number {
    const lines = [...this.waiting.values()];
    this.waiting.clear();
    const cancelled = this.waitingCount;
    this.waitingCount = 0;
    for (const line of lines) for (const w of line) w.cancel();
    this.notify();
    return cancelled;
  }

  private underCap(key: string): boolean {
    const cap = this.options.perKey;
    return cap === undefined || (this.runningOf.get(key) ?? 0) < cap;
  }

  /** The key whose waiting task takes the next slot, or undefined when none may start. */
  private pick(): string | undefined {
    const fair = (this.options.order ?? "fair") === "fair";
    let best: { key: string; running: number; seq: number } | undefined;
    for (const [key, line] of this.waiting) {
      if (!this.underCap(key)) continue;
      const running = fair ? (this.runningOf.get(key) ?? 0) : 0;
      const seq = line[0]!.seq;
      if (!best || running < best.running || (running === best.running && seq < best.seq))
        best = { key, running, seq };
    }
    return best?.key;
  }

  private finish(key: string): void {
    this.running--;
    const left = (this.runningOf.get(key) ?? 1) - 1;
    if (left === 0) this.runningOf.delete(key);
    else this.runningOf.set(key, left);
    const next = this.pick();
    if (next !== undefined) {
      const line = this.waiting.get(next)!;
      const task = line.shift()!;
      if (line.length === 0) this.waiting.delete(next);
      this.waitingCount--;
      task.start();
    }
    this.notify();
  }

  private notify(): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const l of listeners) l();
  }
}
