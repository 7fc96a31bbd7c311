import type { ObjectResult } from "../functions/distributor/reporting/outcome-report";

/** One row per tenant and destination: what each destination received, never added across them. */
export interface SummaryRow {
  readonly tenant: string;
  /** The target (`cloudwatch:...` or `s3://...`), or `-` for objects refused before any destination. */
  readonly destination: string;
  readonly objects: number;
  /** CloudWatch: events put. */
  readonly cloudwatchEvents: number;
  /** S3: objects copied. */
  readonly s3Objects: number;
  readonly rejected: number;
  readonly skipped: number;
  readonly parked: number;
  readonly failed: number;
  readonly maxLatencyMs?: number;
}

export interface DeliverySummary {
  readonly rows: SummaryRow[];
  /** Why objects were skipped or failed, with how many: `tenant: reason`. */
  readonly reasons: {
    readonly tenant: string;
    readonly status: string;
    readonly reason: string;
    readonly objects: number;
  }[];
}

/** The `npm start` summary: sorted by tenant and destination, with skipped and failed reasons. */
export function summarize(objects: readonly ObjectResult[]): DeliverySummary {
  const rows = new Map<string, { -readonly [K in keyof SummaryRow]: SummaryRow[K] }>();
  const reasons = new Map<string, { tenant: string; status: string; reason: string; objects: number }>();
  const note = (tenant: string, status: string, reason: string | undefined) => {
    if (!reason) return;
    const key = `${tenant}\u0000${status}\u0000${reason}`;
    const r = reasons.get(key) ?? { tenant, status, reason, objects: 0 };
    r.objects++;
    reasons.set(key, r);
  };
  const rowOf = (tenant: string, destination: string) => {
    const key = `${tenant}\u0000${destination}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        tenant,
        destination,
        objects: 0,
        cloudwatchEvents: 0,
        s3Objects: 0,
        rejected: 0,
        skipped: 0,
        parked: 0,
        failed: 0,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const o of objects) {
    const tenant = o.tenantId ?? "-";
    if (o.destinations.length === 0) {
      const row = rowOf(tenant, "-");
      row.objects++;
      if (o.status === "skipped") row.skipped++;
      else if (o.status.startsWith("failed")) row.failed++;
      note(tenant, o.status, o.reason);
      continue;
    }
    for (const d of o.destinations) {
      const row = rowOf(tenant, d.target);
      row.objects++;
      row.rejected += d.eventsRejected;
      if (d.status === "delivered" || d.status === "already_delivered") {
        if (d.type === "cloudwatch") row.cloudwatchEvents += d.eventsDelivered;
        else row.s3Objects++;
        row.maxLatencyMs = Math.max(row.maxLatencyMs ?? 0, o.latencyMs);
      } else if (d.status === "skipped") row.skipped++;
      else if (d.status === "parked") row.parked++;
      else row.failed++;
      if (d.status !== "delivered" && d.status !== "already_delivered") note(tenant, d.status, d.reason);
    }
  }
  const byName = (a: { tenant: string; destination?: string; reason?: string }, b: typeof a) =>
    `${a.tenant}\u0000${a.destination ?? a.reason}`.localeCompare(
      `${b.tenant}\u0000${b.destination ?? b.reason}`,
    );
  return { rows: [...rows.values()].sort(byName), reasons: [...reasons.values()].sort(byName) };
}
