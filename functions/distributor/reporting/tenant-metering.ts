import type { MetricDatum, Telemetry } from "../ports";

/**
 * Which tenants get their own CloudWatch metrics. Each tenant with metrics costs about 10 custom
 * metrics (5 names x 2 destination types), $0.30 each a month: $3,000 a month at 1,000 tenants.
 * - `all`: every tenant;
 * - `top`: the N tenants with the most events delivered by this process in the last hour or two;
 * - `none`: no tenant (the default).
 * Tenants `always` metered (those with a freshness alarm) get them in every mode. Every tenant's
 * figures stay in the structured log line of each object, which the stack's Contributor Insights
 * rules rank; and every delivery metric is also kept without the tenant, per destination type.
 */
export type TenantMetricsSetting =
  | { readonly mode: "all" }
  | { readonly mode: "none" }
  | { readonly mode: "top"; readonly top: number };

const TENANT = "tenant_id";
const WINDOW_MS = 3_600_000;
const RANK_EVERY_MS = 60_000;

/** The TENANT_METRICS value of a setting: `all`, `none` or `top:N` (parseTenantMetrics reads it). */
export function formatTenantMetrics(setting: TenantMetricsSetting): string {
  return setting.mode === "top" ? `top:${setting.top}` : setting.mode;
}

/** `all`, `none` or `top:N` (the TENANT_METRICS setting). */
export function parseTenantMetrics(text: string): TenantMetricsSetting | undefined {
  if (text === "all" || text === "none") return { mode: text };
  const top = /^top:([1-9]\d{0,3})$/.exec(text);
  return top ? { mode: "top", top: Number(top[1]) } : undefined;
}

/** Ranks tenants by events delivered over the current and the previous hour. */
class TopTenants {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private windowStart: number;
  private ranked = new Set<string>();
  private rankedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly top: number,
    private readonly now: () => number,
  ) {
    this.windowStart = now();
  }

  add(tenant: string, events: number): void {
    const now = this.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.previous = now - this.windowStart >= 2 * WINDOW_MS ? new Map() : this.current;
      this.current = new Map();
      this.windowStart = now;
    }
    this.current.set(tenant, (this.current.get(tenant) ?? 0) + events);
  }

  /** Re-ranked once a minute; a tenant new to the process is in while there is room. */
  has(tenant: string): boolean {
    const now = this.now();
    if (now - this.rankedAt >= RANK_EVERY_MS) {
      const score = new Map(this.previous);
      for (const [t, n] of this.current) score.set(t, (score.get(t) ?? 0) + n);
      this.ranked = new Set(
        [...score]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, this.top)
          .map(([t]) => t),
      );
      this.rankedAt = now;
    }
    if (!this.ranked.has(tenant) && this.ranked.size < this.top) this.ranked.add(tenant);
    return this.ranked.has(tenant);
  }
}

/**
 * Telemetry that applies the setting: a metric call with a `tenant_id` dimension is recorded with
 * it only for metered tenants. A call that also names a `destination` is always recorded without
 * the tenant too (per destination type), so delivery totals stay complete; the callers record
 * service-wide twins of the others. Logs pass through unchanged.
 */
export class TenantMeteredTelemetry implements Telemetry {
  private readonly top?: TopTenants;

  constructor(
    private readonly inner: Telemetry,
    private readonly setting: TenantMetricsSetting,
    private readonly always: ReadonlySet<string> = new Set(),
    now: () => number = Date.now,
  ) {
    if (setting.mode === "top") this.top = new TopTenants(setting.top, now);
  }

  log(...args: Parameters<Telemetry["log"]>): void {
    this.inner.log(...args);
  }

  metrics(dimensions: Record<string, string>, data: MetricDatum[]): void {
    const tenant = dimensions[TENANT];
    if (tenant === undefined) {
      this.inner.metrics(dimensions, data);
      return;
    }
    if (dimensions.destination !== undefined) {
      const { [TENANT]: _, ...withoutTenant } = dimensions;
      this.inner.metrics(withoutTenant, data);
    }
    const events = data.find((d) => d.name === "EventsDelivered")?.value ?? 0;
    this.top?.add(tenant, events);
    if (this.metered(tenant)) this.inner.metrics(dimensions, data);
  }

  private metered(tenant: string): boolean {
    if (this.always.has(tenant) || this.setting.mode === "all") return true;
    return this.top?.has(tenant) ?? false;
  }
}
