import { isoTimeMs } from "../../shared/timestamps";
import type { Attempt, DeliveryRun, Destination } from "../delivery/destinations";
import { isInAcceptWindow } from "../delivery/destinations/cloudwatch/batching";
import { describeError } from "../errors";
import { type Beat, pulseAfter } from "../model/pulse";
import type { PulseStore, Telemetry } from "../ports";
import type { EventChunk, LogEvent } from "../reading/log-records";

/**
 * A heartbeat line (stacks/heartbeat.ts prints it), or undefined for any other message:
 * `{"logrelay_heartbeat":1,"cluster_id":"rosa-1","series":"<uuid>","seq":42,"emitted_at":"..."}`.
 */
export function beatOf(message: string): Beat | undefined {
  if (!message.startsWith("{")) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(message);
  } catch {
    return undefined;
  }
  const d = doc as { logrelay_heartbeat?: unknown; series?: unknown; seq?: unknown; emitted_at?: unknown };
  if (d.logrelay_heartbeat !== 1 || typeof d.series !== "string" || d.series.length > 100) return undefined;
  if (typeof d.seq !== "number" || !Number.isSafeInteger(d.seq) || d.seq < 1) return undefined;
  const emittedAtMs = typeof d.emitted_at === "string" ? isoTimeMs(d.emitted_at) : undefined;
  if (emittedAtMs === undefined) return undefined;
  return { series: d.series, seq: d.seq, emittedAtMs };
}

/** Conditional-write attempts per delivery when another process moved the pulse meanwhile. */
const PUT_ATTEMPTS = 5;

/**
 * Keeps each cluster's pulse from the heartbeats delivered for it: one read and one conditional
 * write per delivered heartbeat object, and metrics per cluster (lag, gaps) that the
 * regional stack's alarms watch.
 */
export class HeartbeatPulse {
  constructor(
    private readonly store: PulseStore,
    private readonly telemetry: Telemetry,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records heartbeats delivered for a cluster. Bookkeeping: a failure is logged, not the delivery's. */
  async delivered(clusterId: string, beats: readonly Beat[]): Promise<void> {
    try {
      for (let attempt = 1; attempt <= PUT_ATTEMPTS; attempt++) {
        const previous = await this.store.get(clusterId);
        const change = pulseAfter(previous, clusterId, beats, this.now());
        if (!change) return;
        if (!(await this.store.put(change.pulse, previous?.version))) continue;
        // Two metrics per cluster (each costs a custom metric a month): a lag datapoint is also
        // the sign of life the missing-heartbeat alarm counts.
        this.telemetry.metrics({ cluster_id: clusterId }, [
          { name: "HeartbeatLag", value: change.pulse.lagSeconds * 1000, unit: "Milliseconds" },
          { name: "HeartbeatGaps", value: Math.max(0, change.gapsAdded), unit: "Count" },
        ]);
        this.telemetry.log("info", "cluster heartbeats delivered", {
          cluster_id: clusterId,
          heartbeats: change.newBeats,
          lag_seconds: change.pulse.lagSeconds,
          gaps: change.pulse.gaps,
        });
        if (change.gapsAdded > 0)
          this.telemetry.log("warn", "heartbeats lost on the way", {
            cluster_id: clusterId,
            series: change.pulse.series,
            missing: change.pulse.missing.slice(-10),
            gaps: change.pulse.gaps,
          });
        return;
      }
      this.telemetry.log("warn", "could not record a cluster's pulse: it kept changing", {
        cluster_id: clusterId,
      });
    } catch (error) {
      this.telemetry.log("warn", "could not record a cluster's pulse", {
        cluster_id: clusterId,
        error: describeError(error),
      });
    }
  }
}

/** The events of a read, each also handed to `seen`. */
async function* tapped(chunks: AsyncIterable<EventChunk>, seen: (event: LogEvent) => void) {
  for await (const chunk of chunks) {
    for (const event of chunk) seen(event);
    yield chunk;
  }
}

/**
 * The heartbeat tenant's CloudWatch destination: delivers like any other and, once CloudWatch
 * accepted the object, records the cluster's pulse from the heartbeats it carried.
 */
export class PulseDestination implements Destination {
  readonly type: Destination["type"];
  readonly target: string;
  readonly sessionRequest: Destination["sessionRequest"];

  constructor(
    private readonly inner: Destination,
    private readonly pulse: HeartbeatPulse,
    private readonly clusterId: string,
    private readonly now: () => number,
  ) {
    this.type = inner.type;
    this.target = inner.target;
    this.sessionRequest = inner.sessionRequest;
  }

  async deliver(run: DeliveryRun): Promise<Attempt> {
    // By series and number: a reopened read sees the same heartbeats again.
    const beats = new Map<string, Beat>();
    const windowNowMs = this.now();
    const attempt = await this.inner.deliver({
      ...run,
      events: async (stats) =>
        tapped(await run.events(stats), (event) => {
          const beat = beatOf(event.message);
          if (beat && isInAcceptWindow(event.timestamp, windowNowMs))
            beats.set(`${beat.series}#${beat.seq}`, beat);
        }),
    });
    if (attempt.error === undefined && beats.size > 0)
      await this.pulse.delivered(this.clusterId, [...beats.values()]);
    return attempt;
  }
}
