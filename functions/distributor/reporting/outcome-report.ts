import { countsSince, type DeliveryCounts } from "../model/counts";
import type { Telemetry } from "../ports";

export type DestinationStatus =
  | "delivered"
  | "already_delivered"
  | "in_progress_elsewhere"
  | "skipped"
  | "parked"
  | "lost"
  | "failed_permanent"
  | "failed_transient";
/** `parked`: set aside until the destination works again (acknowledged; nothing is lost). */
export type OutcomeStatus = "delivered" | "skipped" | "parked" | "failed_permanent" | "failed_transient";

export interface DestinationResult extends DeliveryCounts {
  readonly type: string;
  /** Where it goes: `cloudwatch:<region>:<account>:<log group>` or `s3://<bucket>/<prefix>`. */
  readonly target: string;
  readonly status: DestinationStatus;
  readonly reason?: string;
  /** Counts already recorded by an earlier attempt (the checkpoint this one resumed from). */
  readonly resumedFrom?: DeliveryCounts;
  /** Events the config's filter kept back in this attempt, by reason (`include`, `exclude.<n>`). */
  readonly filtered?: Record<string, number>;
  /** Redactions made in this attempt, by rule. */
  readonly redactions?: Record<string, number>;
}

export interface ObjectResult {
  readonly bucket: string;
  readonly key: string;
  readonly tenantId?: string;
  readonly status: OutcomeStatus;
  readonly reason?: string;
  readonly destinations: DestinationResult[];
  /** From object creation to the end of delivery. */
  readonly latencyMs: number;
}

export interface MessageResult {
  readonly status: OutcomeStatus;
  readonly reason?: string;
  readonly objects: ObjectResult[];
  readonly ignored: string[];
}

const RANK: Record<OutcomeStatus, number> = {
  skipped: 0,
  delivered: 1,
  parked: 2,
  failed_permanent: 3,
  failed_transient: 4,
};

/** What a destination's status means for its object (a lost delivery is a permanent failure). */
const AS_OUTCOME: Record<DestinationStatus | OutcomeStatus, OutcomeStatus> = {
  delivered: "delivered",
  already_delivered: "delivered",
  skipped: "skipped",
  parked: "parked",
  lost: "failed_permanent",
  failed_permanent: "failed_permanent",
  in_progress_elsewhere: "failed_transient",
  failed_transient: "failed_transient",
};

/**
 * Worst status wins: a transient failure (or a claim held elsewhere) means "retry the message",
 * then permanent, parked, delivered, skipped.
 */
export function combineStatus(statuses: Iterable<DestinationStatus | OutcomeStatus>): OutcomeStatus {
  let result: OutcomeStatus = "skipped";
  for (const s of statuses) {
    const outcome = AS_OUTCOME[s];
    if (RANK[outcome] > RANK[result]) result = outcome;
  }
  return result;
}

const MAX_LOGGED_BODY = 262_144;

/** Structured log lines and metrics for every outcome: one place, so all runs report alike. */
export class OutcomeReport {
  constructor(private readonly telemetry: Telemetry) {}

  malformedMessage(body: string, reason: string, context: Record<string, string>): void {
    // Kept whole in the log: a notification holds no customer payload, and this is its only copy.
    this.telemetry.log("error", "malformed message acknowledged without delivery", {
      ...context,
      outcome: "failed_permanent",
      reason,
      body: body.length > MAX_LOGGED_BODY ? `${body.slice(0, MAX_LOGGED_BODY)}...(truncated)` : body,
    });
    this.telemetry.metrics({}, [{ name: "MalformedMessages", value: 1, unit: "Count" }]);
    this.permanentFailure();
  }

  /** A delivery the tenant registry refused (alarmed service-wide; per tenant for the dashboard). */
  registryRefusal(tenantId: string): void {
    this.telemetry.metrics({}, [{ name: "RegistryRefusals", value: 1, unit: "Count" }]);
    this.telemetry.metrics({ tenant_id: tenantId }, [{ name: "RegistryRefusals", value: 1, unit: "Count" }]);
  }

  ignored(ignored: string[], context: Record<string, string>): void {
    if (ignored.length > 0)
      this.telemetry.log("info", "notification records ignored", { ...context, ignored });
  }

  /** One structured log line per object, metrics per tenant and destination type. */
  object(result: ObjectResult, context: Record<string, string>): void {
    this.logObject(result, context);
    const tenant = result.tenantId ?? "(unknown)";
    if (result.destinations.length === 0) {
      const name = result.status === "skipped" ? "ObjectsSkipped" : "ObjectFailures";
      this.telemetry.metrics({ tenant_id: tenant }, [{ name, value: 1, unit: "Count" }]);
      this.telemetry.metrics({}, [{ name, value: 1, unit: "Count" }]);
      if (result.status === "failed_permanent") this.permanentFailure();
      return;
    }
    for (const d of result.destinations) this.destinationMetrics(tenant, d, result.latencyMs);
  }

  private logObject(result: ObjectResult, context: Record<string, string>): void {
    const level = result.status.startsWith("failed")
      ? "error"
      : result.status === "skipped"
        ? "warn"
        : "info";
    this.telemetry.log(level, `object ${result.status}`, {
      ...context,
      tenant_id: result.tenantId,
      bucket: result.bucket,
      key: result.key,
      outcome: result.status,
      reason: result.reason,
      latency_ms: result.latencyMs,
      // This attempt's totals over the destinations: what the stack's Contributor Insights rules rank tenants by.
      events_delivered: result.destinations.reduce(
        (n, d) => n + countsSince(d, d.resumedFrom).eventsDelivered,
        0,
      ),
      bytes_delivered: result.destinations.reduce((n, d) => n + (d.status === "delivered" ? d.bytes : 0), 0),
      destinations: result.destinations.map((d) => ({
        type: d.type,
        target: d.target,
        status: d.status,
        reason: d.reason,
        events_delivered: d.eventsDelivered,
        events_rejected: d.eventsRejected,
        events_split: d.eventsSplit,
        bad_lines: d.badLines,
        bytes: d.bytes,
        batches: d.batches,
        events_filtered: d.eventsFiltered,
        ...(d.filtered && { filtered: d.filtered }),
        ...(d.redactions && { redactions: d.redactions }),
        ...(d.resumedFrom && { resumed_after_batch: d.resumedFrom.batches }),
      })),
    });
  }

  /** Metrics count this attempt only: what a resumed attempt inherited was counted before. */
  private destinationMetrics(tenant: string, d: DestinationResult, latencyMs: number): void {
    const failed = d.status === "failed_permanent" || d.status === "failed_transient";
    const own = countsSince(d, d.resumedFrom);
    this.telemetry.metrics({ tenant_id: tenant, destination: d.type }, [
      { name: "EventsDelivered", value: own.eventsDelivered, unit: "Count" },
      { name: "EventsRejected", value: own.eventsRejected, unit: "Count" },
      { name: "BytesDelivered", value: d.status === "delivered" ? d.bytes : 0, unit: "Bytes" },
      { name: "DeliveryFailures", value: failed ? 1 : 0, unit: "Count" },
      ...(d.status === "delivered"
        ? [{ name: "DeliveryLatency", value: latencyMs, unit: "Milliseconds" as const }]
        : []),
    ]);
    this.shapingMetrics(tenant, d);
    if (d.status === "failed_permanent") this.permanentFailure();
  }

  /** What the config's filter and redaction did, per reason and rule (only what happened). */
  private shapingMetrics(tenant: string, d: DestinationResult): void {
    const each = (counts: Record<string, number> | undefined, name: string, dimension: string) => {
      for (const [key, value] of Object.entries(counts ?? {}))
        if (value > 0)
          this.telemetry.metrics({ tenant_id: tenant, destination: d.type, [dimension]: key }, [
            { name, value, unit: "Count" },
          ]);
    };
    each(d.filtered, "EventsFiltered", "reason");
    each(d.redactions, "Redactions", "rule");
  }

  private permanentFailure(): void {
    this.telemetry.metrics({}, [{ name: "PermanentFailures", value: 1, unit: "Count" }]);
  }
}
