import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  type MetricDataQuery,
} from "@aws-sdk/client-cloudwatch";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Pulse } from "../functions/distributor/model/pulse";
import type { ParkedSummary } from "../functions/distributor/parking/parking";
import { METRICS_NAMESPACE } from "../functions/shared/contract";
import { DELIVERY_TYPES } from "../functions/shared/delivery-config";
import { isoTimeMs } from "../functions/shared/timestamps";

export interface QueueState {
  readonly url: string;
  readonly visible: number;
  readonly inFlight: number;
  /** Age of the oldest message (CloudWatch's ApproximateAgeOfOldestMessage, last 5 minutes), if known. */
  readonly oldestAgeSeconds?: number;
}

export interface TenantHour {
  readonly tenantId: string;
  readonly destination: string;
  readonly eventsDelivered: number;
  readonly failures: number;
  /** p99 of DeliveryLatency over the hour, when there were deliveries. */
  readonly latencyP99Ms?: number;
}

export interface Status {
  readonly healthy: boolean;
  /** Why not, one line each. */
  readonly attention: string[];
  readonly queue: QueueState;
  readonly dlq: QueueState;
  readonly alarms: { readonly name: string; readonly state: string; readonly reason: string }[];
  readonly tenants: TenantHour[];
  readonly parked: ParkedSummary[];
}

/** A message waiting longer than this means delivery falls behind. */
export const OLDEST_AGE_LIMIT_SECONDS = 900;

async function queueState(
  sqs: Pick<SQSClient, "send">,
  cw: Pick<CloudWatchClient, "send">,
  url: string,
  now: Date,
): Promise<QueueState> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const name = url.slice(url.lastIndexOf("/") + 1);
  const age = await metricValues(cw, now, 300, [
    {
      Id: "age",
      MetricStat: {
        Metric: {
          Namespace: "AWS/SQS",
          MetricName: "ApproximateAgeOfOldestMessage",
          Dimensions: [{ Name: "QueueName", Value: name }],
        },
        Period: 300,
        Stat: "Maximum",
      },
    },
  ]);
  return {
    url,
    visible: Number(a.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    ...(age.age !== undefined && { oldestAgeSeconds: age.age }),
  };
}

/** The latest value of each query over the last `seconds`, by query id. */
async function metricValues(
  cw: Pick<CloudWatchClient, "send">,
  now: Date,
  seconds: number,
  queries: MetricDataQuery[],
): Promise<Record<string, number | undefined>> {
  const values: Record<string, number | undefined> = {};
  for (let i = 0; i < queries.length; i += 500) {
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - seconds * 1000),
        // A minute ahead: the latest datapoints carry this minute's timestamp.
        EndTime: new Date(now.getTime() + 60_000),
        MetricDataQueries: queries.slice(i, i + 500),
      }),
    );
    for (const r of out.MetricDataResults ?? []) if (r.Id) values[r.Id] = r.Values?.[0];
  }
  return values;
}

/** A statistic of one distributor metric, e.g. { metric: "DeliveryLatency", stat: "p99" }. */
export interface MetricStatistic {
  readonly metric: string;
  readonly stat: string;
}

/**
 * Each tenant and destination with a `tenant_id` metric named like the first statistic, and each
 * statistic over the last `seconds` (undefined where there was no datapoint). Only tenants with
 * their own metrics are here (see the TENANT_METRICS setting).
 */
export async function tenantMetricValues(
  cw: Pick<CloudWatchClient, "send">,
  now: Date,
  seconds: number,
  statistics: readonly MetricStatistic[],
): Promise<{ tenantId: string; destination: string; values: (number | undefined)[] }[]> {
  const pairs = new Map<string, { tenantId: string; destination: string; service?: string }>();
  let token: string | undefined;
  do {
    const page = await cw.send(
      new ListMetricsCommand({
        Namespace: METRICS_NAMESPACE,
        MetricName: statistics[0]!.metric,
        NextToken: token,
      }),
    );
    for (const m of page.Metrics ?? []) {
      const dim = (n: string) => m.Dimensions?.find((d) => d.Name === n)?.Value;
      const tenantId = dim("tenant_id");
      const destination = dim("destination");
      const service = dim("service");
      if (tenantId && destination)
        pairs.set(`${tenantId}\u0000${destination}`, { tenantId, destination, ...(service && { service }) });
    }
    token = page.NextToken;
  } while (token);
  const list = [...pairs.values()].sort((a, b) =>
    `${a.tenantId}\u0000${a.destination}`.localeCompare(`${b.tenantId}\u0000${b.destination}`),
  );
  const query = (i: number, j: number): MetricDataQuery => {
    const p = list[i]!;
    return {
      Id: `m${j}_${i}`,
      MetricStat: {
        Metric: {
          Namespace: METRICS_NAMESPACE,
          MetricName: statistics[j]!.metric,
          Dimensions: [
            ...(p.service ? [{ Name: "service", Value: p.service }] : []),
            { Name: "tenant_id", Value: p.tenantId },
            { Name: "destination", Value: p.destination },
          ],
        },
        Period: seconds,
        Stat: statistics[j]!.stat,
      },
    };
  };
  const values = await metricValues(
    cw,
    now,
    seconds,
    list.flatMap((_, i) => statistics.map((_s, j) => query(i, j))),
  );
  return list.map((p, i) => ({
    tenantId: p.tenantId,
    destination: p.destination,
    values: statistics.map((_s, j) => values[`m${j}_${i}`]),
  }));
}

/**
 * The sum of one distributor metric over the last `seconds`, over all tenants: from the series
 * kept per destination type without the tenant (recorded whatever the TENANT_METRICS setting).
 */
export async function metricTotal(
  cw: Pick<CloudWatchClient, "send">,
  now: Date,
  seconds: number,
  metric: string,
  service: string,
): Promise<number> {
  const values = await metricValues(
    cw,
    now,
    seconds,
    DELIVERY_TYPES.map((destination, i) => ({
      Id: `total_${i}`,
      MetricStat: {
        Metric: {
          Namespace: METRICS_NAMESPACE,
          MetricName: metric,
          Dimensions: [
            { Name: "service", Value: service },
            { Name: "destination", Value: destination },
          ],
        },
        Period: seconds,
        Stat: "Sum",
      },
    })),
  );
  return DELIVERY_TYPES.reduce((sum, _d, i) => sum + (values[`total_${i}`] ?? 0), 0);
}

/** Per tenant and destination over the last hour, from the distributor's metrics. */
async function tenantHours(cw: Pick<CloudWatchClient, "send">, now: Date): Promise<TenantHour[]> {
  const rows = await tenantMetricValues(cw, now, 3600, [
    { metric: "EventsDelivered", stat: "Sum" },
    { metric: "DeliveryFailures", stat: "Sum" },
    { metric: "DeliveryLatency", stat: "p99" },
  ]);
  return rows.map(({ tenantId, destination, values: [events, failures, p99] }) => ({
    tenantId,
    destination,
    eventsDelivered: events ?? 0,
    failures: failures ?? 0,
    ...(p99 !== undefined && { latencyP99Ms: p99 }),
  }));
}

/**
 * Is delivery healthy? The queue and its age, the DLQ, the alarms under a prefix, the last hour
 * per tenant and destination, and parked destinations; `attention` says what is not healthy.
 */
export async function deliveryStatus(deps: {
  readonly sqs: Pick<SQSClient, "send">;
  readonly cloudwatch: Pick<CloudWatchClient, "send">;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly alarmPrefix: string;
  readonly parked: () => Promise<ParkedSummary[]>;
  /** Clusters' heartbeats (clusterPulses): a cluster stale or never seen needs attention. */
  readonly clusters?: readonly ClusterPulse[];
  readonly now?: Date;
}): Promise<Status> {
  const now = deps.now ?? new Date();
  const [queue, dlq, alarmsOut, tenants, parked] = await Promise.all([
    queueState(deps.sqs, deps.cloudwatch, deps.queueUrl, now),
    queueState(deps.sqs, deps.cloudwatch, deps.dlqUrl, now),
    deps.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: deps.alarmPrefix })),
    tenantHours(deps.cloudwatch, now),
    deps.parked(),
  ]);
  const alarms = (alarmsOut.MetricAlarms ?? [])
    .map((a) => ({ name: a.AlarmName ?? "", state: a.StateValue ?? "", reason: a.StateReason ?? "" }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const attention = [
    ...(dlq.visible + dlq.inFlight > 0
      ? [`${dlq.visible + dlq.inFlight} message(s) in the DLQ: logrelay dlq inspect --dlq-url ${deps.dlqUrl}`]
      : []),
    ...((queue.oldestAgeSeconds ?? 0) > OLDEST_AGE_LIMIT_SECONDS
      ? [`the oldest message waits ${Math.round(queue.oldestAgeSeconds!)} s: delivery falls behind`]
      : []),
    ...alarms.filter((a) => a.state === "ALARM").map((a) => `alarm ${a.name}: ${a.reason}`),
    ...parked
      .filter((p) => p.objects > 0 || p.breaker === "open")
      .map((p) => `${p.tenantId} ${p.type} parked (${p.objects} object(s)): ${p.reason}`),
    ...parked
      .filter((p) => p.lost > 0)
      .map((p) => `${p.tenantId} ${p.type}: ${p.lost} parked object(s) lost by expiry`),
    ...[silentClusters(deps.clusters ?? [])].filter((line): line is string => line !== undefined),
  ];
  return { healthy: attention.length === 0, attention, queue, dlq, alarms, tenants, parked };
}

/** A cluster's heartbeat as `logrelay status` shows it. */
export interface ClusterPulse {
  readonly clusterId: string;
  readonly lastHeartbeatAt?: string;
  readonly lagSeconds?: number;
  readonly gaps: number;
  /** `ok`: a heartbeat within the stale time; `stale`: none since; `never`: none ever delivered. */
  readonly state: "ok" | "stale" | "never";
}

/**
 * Every expected cluster (the environment's) and every cluster with a pulse, by id: the last
 * heartbeat's emit time, its lag, the heartbeats lost, and whether it is ok, stale or never seen.
 */
export function clusterPulses(
  expected: readonly string[],
  pulses: readonly Pulse[],
  staleAfterSeconds: number,
  now: Date,
): ClusterPulse[] {
  const byId = new Map(pulses.map((p) => [p.clusterId, p]));
  const ids = [...new Set([...expected, ...byId.keys()])].sort();
  return ids.map((clusterId) => {
    const p = byId.get(clusterId);
    if (!p) return { clusterId, gaps: 0, state: "never" };
    const age = (now.getTime() - (isoTimeMs(p.lastEmittedAt) ?? 0)) / 1000;
    return {
      clusterId,
      lastHeartbeatAt: p.lastEmittedAt,
      lagSeconds: p.lagSeconds,
      gaps: p.gaps,
      state: age > staleAfterSeconds ? "stale" : "ok",
    };
  });
}

/** One line naming the clusters that are stale or never seen, or undefined when every one is ok. */
export function silentClusters(clusters: readonly ClusterPulse[]): string | undefined {
  const silent = clusters.filter((c) => c.state !== "ok");
  if (silent.length === 0) return undefined;
  return `${silent.length} cluster(s) without a recent heartbeat: ${silent.map((c) => `${c.clusterId} (${c.state === "never" ? "never seen" : `stale since ${c.lastHeartbeatAt}`})`).join(", ")}`;
}
