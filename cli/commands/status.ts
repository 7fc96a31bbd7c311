import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Command } from "commander";
import { JsonLinesTelemetry } from "../../functions/distributor/adapters/json-lines-telemetry";
import { DistributorSettingsSchema } from "../../functions/distributor/settings";
import { createDistributor } from "../../functions/distributor/wiring";
import { awsRegion, type OutputFormat, outputOption, structured } from "../context";
import { CliError, type CliIo, table } from "../io";
import { deliveryStatus, type Status } from "../status";

const age = (s?: number) => (s === undefined ? "unknown" : `${Math.round(s)} s`);

function render(s: Status, parkedNote: string): string {
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
  ];
  return lines.join("\n");
}

export function registerStatus(program: Command, io: CliIo): void {
  program
    .command("status")
    .description(
      "is delivery healthy? queue depth and age, DLQ, alarms, the last hour per tenant, parked destinations",
    )
    .requiredOption("--queue-url <url>", "the delivery queue (regional stack output delivery_queue_url)")
    .requiredOption("--dlq-url <url>", "its DLQ (regional stack output delivery_dlq_url)")
    .option("--alarm-prefix <prefix>", "alarm names start with this (logrelay-<env>-<region>)", "logrelay-")
    .addOption(outputOption())
    .addHelpText(
      "after",
      "\nParked destinations are read from the delivery ledger when the distributor's settings are set\n" +
        "(DELIVERY_LEDGER_TABLE and the rest, as for `logrelay deliver`). Exit codes: 0 healthy, 1 needs attention.\n" +
        "Example: logrelay status --queue-url URL --dlq-url URL --alarm-prefix logrelay-prod-us-east-1 -o json",
    )
    .action(async (o: { queueUrl: string; dlqUrl: string; alarmPrefix: string; output: OutputFormat }) => {
      const region = await awsRegion(io);
      const settings = DistributorSettingsSchema.safeParse(io.env);
      const parking =
        settings.success && settings.data.DELIVERY_LEDGER_TABLE
          ? createDistributor(settings.data, new JsonLinesTelemetry(io.stderr, "warn")).parking
          : undefined;
      const parkedNote = parking
        ? "nothing parked"
        : "parked destinations not read: set the distributor's settings (DELIVERY_LEDGER_TABLE, ...)";
      const status = await deliveryStatus({
        sqs: new SQSClient({ region }),
        cloudwatch: new CloudWatchClient({ region }),
        queueUrl: o.queueUrl,
        dlqUrl: o.dlqUrl,
        alarmPrefix: o.alarmPrefix,
        parked: () => parking?.summary() ?? Promise.resolve([]),
      });
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
              parked_read: parking !== undefined,
            })
          : render(status, parkedNote),
      );
      if (!status.healthy)
        throw new CliError(`delivery needs attention (${status.attention.length} finding(s) above)`);
    });
}
