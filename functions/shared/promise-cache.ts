/**
 * One promise per key: concurrent lookups of a key share one request (single-flight) and its
 * result is kept `ttlMs` (0: only while in flight; Infinity: until forgotten or pushed out), at
 * most `maxEntries` keys (the oldest go first). A failed lookup is not kept: the next caller tries
 * again.
 */
export class PromiseCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    this.keep(key, value);
    value.then(
      () => {
        // Only while in flight when results are not kept.
        if (this.ttlMs <= 0 && this.entries.get(key)?.value === value) this.entries.delete(key);
      },
      () => {
        if (this.entries.get(key)?.value === value) this.entries.delete(key);
      },
    );
    return value;
  }

  /** Whether a value (or a lookup in flight) is held for `key`. */
  has(key: string): boolean {
    const hit = this.entries.get(key);
    return hit !== undefined && this.now() - hit.at < this.ttlMs;
  }

  /** Replaces a key's value with one just written (a write knows better than the cached read). */
  set(key: string, value: T): void {
    if (this.ttlMs > 0) this.keep(key, Promise.resolve(value));
  }

  /** Forgets a key (what it named changed: deleted, recreated). */
  delete(key: string): void {
    this.entries.delete(key);
  }

  private keep(key: string, value: Promise<T>): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { at: this.now(), value });
  }
}
