import { SQSClient } from "@aws-sdk/client-sqs";
import type { Command } from "commander";
import { JsonLinesTelemetry } from "../../functions/distributor/adapters/json-lines-telemetry";
import { PowertoolsTelemetry } from "../../functions/distributor/adapters/powertools-telemetry";
import { SqsQueue } from "../../functions/distributor/adapters/sqs-queue";
import {
  DEFAULT_CONCURRENCY,
  QueueUnusableError,
  SqsWorker,
  type WorkerStats,
} from "../../functions/distributor/intake/worker";
import type { QueueDepth } from "../../functions/distributor/ports";
import type { MessageResult, ObjectResult } from "../../functions/distributor/reporting/outcome-report";
import { loadSettings } from "../../functions/distributor/settings";
import { createEngine } from "../../functions/distributor/wiring";
import { numberOption, type OutputFormat, outputOption, settingsOrUsage, structured } from "../context";
import { bodiesFromInput, heartbeat } from "../deliver";
import { CliError, type CliIo, EXIT, table } from "../io";

interface DeliverOptions {
  bucket?: string;
  key?: string;
  queueUrl?: string;
  untilEmpty?: boolean;
  visibilityTimeout: string;
  heartbeatFile?: string;
  shutdownGraceSeconds: string;
  concurrency?: string;
  perTenantConcurrency?: string;
  output: OutputFormat;
  verbose?: boolean;
}

function summarize(objects: ObjectResult[]): string {
  const rows = objects.flatMap((o) =>
    (o.destinations.length > 0 ? o.destinations : [undefined]).map((d) => [
      o.tenantId ?? "-",
      o.key,
      d ? `${d.type} ${d.target}` : "-",
      d?.status ?? o.status,
      d?.eventsDelivered ?? 0,
      d?.eventsRejected ?? 0,
      d?.eventsFiltered ?? 0,
      d?.reason ?? (d ? "" : (o.reason ?? "")),
    ]),
  );
  return table(
    ["TENANT", "KEY", "DESTINATION", "STATUS", "DELIVERED", "REJECTED", "FILTERED", "REASON"],
    rows,
  );
}

function workerSummary(stats: WorkerStats): string {
  const deferred =
    stats.deferred > 0
      ? `; ${stats.deferred} deferral(s): messages handed back to the queue for later while their tenant had its share waiting`
      : "";
  return `received ${stats.received}, acknowledged ${stats.acknowledged} (${stats.delivered} delivered, ${stats.parked} parked, ${stats.failedPermanent} failed permanently), left for retry ${stats.retried}${deferred}`;
}

/** --until-empty stopped with messages still in the queue: say how many and where. */
function queueLeftMessage(left: QueueDepth): string {
  const parts = [
    left.visible > 0 &&
      `${left.visible} visible (the receives came back empty while the queue's counts said otherwise)`,
    left.inFlight > 0 &&
      `${left.inFlight} in flight (held by another consumer, or back after their visibility timeout for a retry)`,
    left.delayed > 0 && `${left.delayed} delayed`,
  ].filter(Boolean);
  return `the queue is not empty: ${parts.join(", ")}. Run again later, or see logrelay status`;
}

export function registerDeliver(program: Command, io: CliIo): void {
  program
    .command("deliver")
    .summary("deliver staged log objects to their tenants' destinations")
    .description(
      "Deliver staged log objects to their tenants' destinations: one object (--bucket/--key), the notifications " +
        "on stdin (SQS event, SQS message, SNS envelope or S3 event), or a queue (--queue-url).",
    )
    .option("--bucket <name>", "central bucket of the object to deliver")
    .option("--key <key>", "key of the object to deliver (tenant/cluster/application/pod/file)")
    .option("--queue-url <url>", "long-poll this SQS queue until SIGTERM (or until empty with --until-empty)")
    .option(
      "--until-empty",
      "with --queue-url: stop once the queue is empty (deferred messages back and delivered); exit 1 if messages stay in flight",
    )
    .option(
      "--visibility-timeout <seconds>",
      "with --queue-url: visibility per message, extended while working",
      "300",
    )
    .option(
      "--shutdown-grace-seconds <seconds>",
      "with --queue-url: on SIGTERM, time the messages in hand get to finish before they checkpoint and are released",
      "20",
    )
    .option(
      "--concurrency <n>",
      `with --queue-url: messages worked on at once; more are received as slots free up (default MAX_PARALLEL_DELIVERIES, else ${DEFAULT_CONCURRENCY})`,
    )
    .option(
      "--per-tenant-concurrency <n>",
      "with --queue-url: cap on one tenant's messages worked on at once (default: none; a freed slot goes to the tenant with the fewest running)",
    )
    .option(
      "--heartbeat-file <path>",
      "with --queue-url: touch this file after every receive (container liveness probes)",
    )
    .addOption(outputOption())
    .option("--verbose", "also print debug logs and metrics on stderr")
    .addHelpText(
      "after",
      "\nSettings come from the environment: TENANT_CONFIG_TABLE, CENTRAL_LOG_DISTRIBUTION_ROLE_ARN, AWS_REGION,\n" +
        "DELIVERY_LEDGER_TABLE (optional), AWS_ENDPOINT_URL (optional, e.g. the emulator).\n" +
        "A destination whose customer side refuses (role trust, ExternalId, log group or bucket policy, KMS key,\n" +
        "deleted bucket) is parked, not dropped: see `logrelay parked list`; it is delivered when it works again.\n" +
        "Exit codes: 0 all settled as delivered or skipped, 1 a delivery failed (or, with --queue-url, a message was\n" +
        "left for retry, the queue is not empty after --until-empty, or the queue cannot be used), 2 bad usage or settings, 3 nothing failed but a delivery\n" +
        "was parked.\n" +
        "Examples: logrelay deliver --bucket STAGING --key acme/c1/app/pod-1/1700000000-x.log.gz\n" +
        "          logrelay deliver --queue-url URL --until-empty --concurrency 32",
    )
    .action(async (options: DeliverOptions) => {
      if ((options.bucket === undefined) !== (options.key === undefined)) {
        throw new CliError("--bucket and --key go together", 2);
      }
      if (options.queueUrl && options.bucket)
        throw new CliError("use either --queue-url or --bucket/--key", 2);
      if (options.heartbeatFile && !options.queueUrl)
        throw new CliError("--heartbeat-file goes with --queue-url", 2);
      const settings = settingsOrUsage(() => loadSettings(io.env));
      const polling = options.queueUrl !== undefined;
      // The worker is a long-running service: EMF metrics on stdout like in Lambda. One-shot runs keep stdout for results.
      const telemetry = polling
        ? new PowertoolsTelemetry({
            serviceName: settings.POWERTOOLS_SERVICE_NAME,
            namespace: settings.METRICS_NAMESPACE,
            logLevel: settings.POWERTOOLS_LOG_LEVEL,
          })
        : new JsonLinesTelemetry(io.stderr, options.verbose ? "debug" : "info");
      const engine = createEngine(settings, telemetry);

      if (options.queueUrl) {
        const visibilitySeconds = numberOption(options.visibilityTimeout, "--visibility-timeout", {
          min: 30,
          max: 43_200,
          says: "30-43200 seconds",
        });
        const graceSeconds = numberOption(options.shutdownGraceSeconds, "--shutdown-grace-seconds", {
          min: 1,
          max: 900,
          says: "1-900 seconds",
        });
        const concurrency =
          options.concurrency === undefined
            ? (settings.MAX_PARALLEL_DELIVERIES ?? DEFAULT_CONCURRENCY)
            : numberOption(options.concurrency, "--concurrency", { min: 1, max: 256 });
        const perTenant =
          options.perTenantConcurrency === undefined
            ? undefined
            : numberOption(options.perTenantConcurrency, "--per-tenant-concurrency", {
                min: 1,
                max: concurrency,
              });
        const worker = new SqsWorker(
          engine,
          new SqsQueue(new SQSClient({ region: settings.AWS_REGION }), options.queueUrl),
          telemetry,
          {
            visibilitySeconds,
            shutdownGraceSeconds: graceSeconds,
            concurrency,
            maxReceiveCount: settings.QUEUE_MAX_RECEIVE_COUNT,
            ...(perTenant !== undefined && { perTenantConcurrency: perTenant }),
            untilEmpty: options.untilEmpty ?? false,
            ...(options.heartbeatFile && { onCycle: heartbeat(options.heartbeatFile) }),
          },
        );
        let stats: WorkerStats;
        try {
          stats = await worker.run(io.shutdown);
        } catch (error) {
          if (!(error instanceof QueueUnusableError)) throw error;
          throw new CliError(
            `${error.message}. Check --queue-url ${options.queueUrl} (and AWS_REGION), and that this worker's role may receive from it`,
          );
        }
        io.stderr.write(`${workerSummary(stats)}\n`);
        if (stats.retried > 0 || stats.failedPermanent > 0) {
          throw new CliError(
            `${stats.retried + stats.failedPermanent} message(s) did not deliver; see the log lines above`,
          );
        }
        if (stats.left) throw new CliError(queueLeftMessage(stats.left));
        if (stats.parked > 0) throw parkedExit(stats.parked);
        return;
      }

      let results: MessageResult[];
      if (options.bucket && options.key) {
        const object = await engine.deliverObject({
          bucket: options.bucket,
          key: options.key,
          eventTime: new Date(),
        });
        results = [
          {
            status: object.status,
            objects: [object],
            ignored: [],
            ...(object.reason && { reason: object.reason }),
          },
        ];
      } else {
        const text = await io.readStdin();
        if (text.trim() === "")
          throw new CliError("nothing on stdin: pass --bucket/--key, --queue-url, or pipe a notification", 2);
        results = [];
        for (const body of bodiesFromInput(text)) results.push(await engine.processMessage(body));
      }
      const objects = results.flatMap((r) => r.objects);
      io.stdout.write(options.output === "table" ? summarize(objects) : structured(options.output, results));
      const failures = [
        ...results
          .filter((r) => r.objects.length === 0 && r.status.startsWith("failed"))
          .map((r) => r.reason ?? r.status),
        ...objects
          .filter((o) => o.status.startsWith("failed"))
          .map((o) => `${o.key}: ${o.reason ?? o.status}`),
      ];
      if (failures.length > 0) throw new CliError(`delivery failed: ${failures.join("; ")}`);
      const parked = objects.filter((o) => o.status === "parked").length;
      if (parked > 0) throw parkedExit(parked);
    });
}

const parkedExit = (n: number) =>
  new CliError(
    `${n} object(s) parked: a destination refuses on the customer's side; see \`logrelay parked list\`, ` +
      "and `logrelay parked retry --tenant T` once it is fixed",
    EXIT.parked,
  );
