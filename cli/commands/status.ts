import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Command } from "commander";
import { JsonLinesTelemetry } from "../../functions/distributor/adapters/json-lines-telemetry";
import { DistributorSettingsSchema } from "../../functions/distributor/settings";
import { createDistributor } from "../../functions/distributor/wiring";
import type { Environment } from "../../stacks/config";
import { names, regionalResourceNames } from "../../stacks/naming";
import {
  awsRegion,
  environmentOption,
  numberOption,
  type OutputFormat,
  outputOption,
  structured,
} from "../context";
import { CliError, type CliIo, table } from "../io";
import { type ClusterPulse, clusterPulses, deliveryStatus, type Status, silentClusters } from "../status";

const age = (s?: number) => (s === undefined ? "unknown" : `${Math.round(s)} s`);

function clustersTable(clusters: readonly ClusterPulse[], note: string): string {
  if (clusters.length === 0) return `${note}\n`;
  return table(
    ["CLUSTER", "STATE", "LAST HEARTBEAT", "LAG", "GAPS"],
    clusters.map((c) => [
      c.clusterId,
      c.state,
      c.lastHeartbeatAt ?? "-",
      c.lagSeconds === undefined ? "-" : `${c.lagSeconds} s`,
      c.gaps,
    ]),
  );
}

const clustersJson = (clusters: readonly ClusterPulse[]) =>
  clusters.map((c) => ({
    cluster_id: c.clusterId,
    last_heartbeat_at: c.lastHeartbeatAt ?? null,
    lag_seconds: c.lagSeconds ?? null,
    gaps: c.gaps,
    state: c.state,
  }));

function render(s: Status, parkedNote: string, clusters: string): string {
  const lines = [
    s.healthy
      ? "delivery is healthy"
      : `delivery needs attention:\n${s.attention.map((a) => `  - ${a}`).join("\n")}`,
    "",
    table(
      ["QUEUE", "VISIBLE", "IN FLIGHT", "OLDEST"],
      [
        ["delivery", s.queue.visible, s.queue.inFlight, age(s.queue.oldestAgeSeconds)],
        ["dead-letter", s.dlq.visible, s.dlq.inFlight, age(s.dlq.oldestAgeSeconds)],
      ],
    ),
    s.alarms.length > 0
      ? table(
          ["ALARM", "STATE"],
          s.alarms.map((a) => [a.name, a.state]),
        )
      : "no alarms under the prefix\n",
    s.tenants.length > 0
      ? table(
          ["TENANT", "DESTINATION", "EVENTS (1 H)", "FAILURES (1 H)", "P99 LATENCY"],
          s.tenants.map((t) => [
            t.tenantId,
            t.destination,
            t.eventsDelivered,
            t.failures,
            t.latencyP99Ms === undefined ? "-" : `${Math.round(t.latencyP99Ms)} ms`,
          ]),
        )
      : "no per-tenant metrics in the last hour (tenant_metrics decides who has them; the Contributor Insights\n" +
        "rules <prefix>-tenants-by-events, -bytes and -failures rank every tenant)\n",
    s.parked.length > 0
      ? table(
          ["PARKED TENANT", "TYPE", "BREAKER", "OBJECTS", "SINCE", "OLDEST EXPIRES"],
          s.parked.map((p) => [
            p.tenantId,
            p.type,
            p.breaker,
            p.objects,
            p.since ?? "-",
            p.oldestExpires ?? "-",
          ]),
        )
      : `${parkedNote}\n`,
    clusters,
  ];
  return lines.join("\n");
}

interface StatusOptions {
  queueUrl?: string;
  dlqUrl?: string;
  alarmPrefix?: string;
  environment?: string;
  staleAfterSeconds?: string;
  check?: boolean;
  output: OutputFormat;
}

/** The delivery queue's and the DLQ's URLs: as given, or by the environment's names in this region. */
async function queueUrls(o: StatusOptions, env: Environment | undefined, sqs: SQSClient, region: string) {
  if (o.queueUrl && o.dlqUrl) return { queueUrl: o.queueUrl, dlqUrl: o.dlqUrl };
  if (!env) throw new CliError("pass --queue-url and --dlq-url, or --environment to find them by name", 2);
  const name = regionalResourceNames(env, region).deliveryQueueName;
  const url = async (queueName: string) =>
    (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl!;
  return { queueUrl: o.queueUrl ?? (await url(name)), dlqUrl: o.dlqUrl ?? (await url(`${name}-dlq`)) };
}

export function registerStatus(program: Command, io: CliIo): void {
  program
    .command("status")
    .description(
      "is delivery healthy? queue depth and age, DLQ, alarms, the last hour per tenant, parked destinations, every cluster's heartbeat",
    )
    .option("--queue-url <url>", "the delivery queue (regional stack output delivery_queue_url)")
    .option("--dlq-url <url>", "its DLQ (regional stack output delivery_dlq_url)")
    .option(
      "--environment <name>",
      "environments/<name>.json: its clusters, their stale time, its queues and alarms",
    )
    .option(
      "--alarm-prefix <prefix>",
      "alarm names start with this (default logrelay-<env>-<region>, else logrelay-)",
    )
    .option(
      "--stale-after-seconds <n>",
      "a cluster without a heartbeat this long is stale (default the environment's heartbeat.stale_after_seconds, else 180)",
    )
    .option(
      "--check",
      "only the clusters: exit 1 with one line naming those stale or never seen (for cron and CI)",
    )
    .addOption(outputOption())
    .addHelpText(
      "after",
      "\nParked destinations and the clusters' heartbeats are read from the delivery ledger (DELIVERY_LEDGER_TABLE\n" +
        "and the rest of the distributor's settings, as for `logrelay deliver`). Exit codes: 0 healthy, 1 needs attention\n" +
        "(with --check: a cluster stale or never seen), 2 bad usage or settings.\n" +
        "Examples: logrelay status --environment prod -o json\n" +
        "          logrelay status --environment prod --check",
    )
    .action(async (o: StatusOptions) => {
      const region = await awsRegion(io);
      const env = o.environment === undefined ? undefined : environmentOption(o.environment);
      const staleAfter =
        o.staleAfterSeconds === undefined
          ? (env?.heartbeat.stale_after_seconds ?? 180)
          : numberOption(o.staleAfterSeconds, "--stale-after-seconds", { min: 1 });
      const settings = DistributorSettingsSchema.safeParse(io.env);
      const distributor =
        settings.success && settings.data.DELIVERY_LEDGER_TABLE
          ? createDistributor(settings.data, new JsonLinesTelemetry(io.stderr, "warn"))
          : undefined;
      const expected = env ? env.clusters.filter((c) => c.region === region).map((c) => c.id) : [];
      const clusters = distributor?.pulses
        ? clusterPulses(expected, await distributor.pulses.all(), staleAfter, new Date())
        : [];
      if (o.check) {
        if (!distributor?.pulses)
          throw new CliError(
            "--check reads the clusters' heartbeats from the delivery ledger: set DELIVERY_LEDGER_TABLE",
            2,
          );
        const silent = silentClusters(clusters);
        if (silent) throw new CliError(silent);
        io.stdout.write(`${clusters.length} cluster(s) ok\n`);
        return;
      }
      const sqs = new SQSClient({ region });
      const status = await deliveryStatus({
        sqs,
        cloudwatch: new CloudWatchClient({ region }),
        ...(await queueUrls(o, env, sqs, region)),
        alarmPrefix: o.alarmPrefix ?? (env ? names(env.name).prefix(region) : "logrelay-"),
        parked: () => distributor?.parking?.summary() ?? Promise.resolve([]),
        clusters,
      });
      const parkedNote = distributor?.parking
        ? "nothing parked"
        : "parked destinations not read: set the distributor's settings (DELIVERY_LEDGER_TABLE, ...)";
      const clustersNote = distributor?.pulses
        ? "no clusters (pass --environment to list the expected ones)"
        : "clusters' heartbeats not read: set the distributor's settings (DELIVERY_LEDGER_TABLE, ...)";
      io.stdout.write(
        o.output !== "table"
          ? structured(o.output, {
              healthy: status.healthy,
              attention: status.attention,
              queue: {
                url: status.queue.url,
                visible: status.queue.visible,
                in_flight: status.queue.inFlight,
                oldest_age_seconds: status.queue.oldestAgeSeconds ?? null,
              },
              dlq: { url: status.dlq.url, visible: status.dlq.visible, in_flight: status.dlq.inFlight },
              alarms: status.alarms,
              tenants: status.tenants.map((t) => ({
                tenant_id: t.tenantId,
                destination: t.destination,
                events_delivered: t.eventsDelivered,
                failures: t.failures,
                latency_p99_ms: t.latencyP99Ms ?? null,
              })),
              parked: status.parked.map((p) => ({
                tenant_id: p.tenantId,
                type: p.type,
                target: p.target,
                breaker: p.breaker,
                objects: p.objects,
                since: p.since ?? null,
              })),
              parked_read: distributor?.parking !== undefined,
              clusters: clustersJson(clusters),
            })
          : render(status, parkedNote, clustersTable(clusters, clustersNote)),
      );
      if (!status.healthy)
        throw new CliError(`delivery needs attention (${status.attention.length} finding(s) above)`);
    });
}
