/**
 * `npm start`: the whole pipeline on this machine, no AWS account needed. Starts the moto
 * emulator, synthesizes and applies the local environment's stacks into it with terraform,
 * registers sample tenants, writes sample logs, delivers them through S3 -> SNS -> SQS and the
 * distributor, prints what each tenant received, and shuts down.
 *
 *   npm start                # run and clean up
 *   npm start -- --keep      # leave the emulator running to look around (Ctrl-C to stop)
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { quietSdkNodeNotice } from "../cli/context";
import { table } from "../cli/io";
import { clusterPulses } from "../cli/status";
import { JsonLinesTelemetry } from "../functions/distributor/adapters/json-lines-telemetry";
import { SqsQueue } from "../functions/distributor/adapters/sqs-queue";
import { SqsWorker } from "../functions/distributor/intake/worker";
import type { MessageResult } from "../functions/distributor/reporting/outcome-report";
import { loadSettings } from "../functions/distributor/settings";
import { createDistributor } from "../functions/distributor/wiring";
import { destinationName } from "../functions/shared/delivery-config";
import { summarize } from "./delivery-summary";
import { applyLocal, localOutputs, localWorkspace, ROOT, synthLocal } from "./local-pipeline";
import { emulatorEnv, startMoto } from "./moto";
import { putConfigs, putRegistrations, sampleConfigs, writeHeartbeats, writeSampleLogs } from "./sample-data";
import { findProviderMirror, requireTerraform } from "./terraform";

const say = (message: string) => process.stdout.write(`${message}\n`);

async function main(): Promise<void> {
  quietSdkNodeNotice();
  const keep = process.argv.includes("--keep");
  const started = Date.now();
  const tf = requireTerraform();
  say(`terraform ${tf}, provider mirror ${findProviderMirror()}`);
  const moto = await startMoto();
  const stop = async () => {
    await moto.stop();
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stop().then(() => process.exit(143)));
  const work = join(ROOT, ".tmp", "local-run");
  rmSync(work, { recursive: true, force: true });
  try {
    const awsEnv = emulatorEnv(moto.endpoint);
    Object.assign(process.env, awsEnv);
    say(`emulator (moto) listening on ${moto.endpoint}, pid ${moto.pid}`);
    const ws = localWorkspace(work, moto.endpoint, awsEnv);

    say("1/5 cdktf synth (environments/local.json)");
    await synthLocal(ws);
    say(
      "2/5 terraform init, plan and apply of every stack (logrelay infra deploy's runner; about 2 minutes: the emulator's SQS and S3 waiters)",
    );
    await applyLocal(ws, (m) => say(`    ${m}`));
    const out = await localOutputs(ws);

    say("3/5 registering sample tenants");
    const configs = sampleConfigs(ws.env, (t) => out.customers[t]!.log_distribution_role_arn!);
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await putRegistrations(db, out.regional.tenant_registry_table!, configs);
    await putConfigs(db, out.regional.tenant_config_table!, configs);
    for (const c of configs) {
      const where = destinationName(c);
      const filter =
        [...c.desired_logs, ...c.groups.map((g) => `group:${g}`)].join(",") || "all applications";
      say(`    ${c.tenant_id.padEnd(8)} ${c.type.padEnd(10)} -> ${where} (${filter})`);
    }

    say(
      "4/5 writing sample logs, and each cluster's heartbeat as its collector would, into the staging bucket",
    );
    const s3 = new S3Client({});
    const objects = [
      ...(await writeSampleLogs(s3, out.regional.staging_bucket!)),
      ...(await writeHeartbeats(
        s3,
        out.regional.staging_bucket!,
        ws.env.heartbeat.tenant_id,
        ws.env.clusters.map((c) => c.id),
      )),
    ];
    for (const o of objects)
      say(`    s3://${out.regional.staging_bucket}/${o.key} (${o.messages.length} events)`);

    say("5/5 delivering: the distributor polls the deployed queue until it is empty");
    const settings = loadSettings({
      ...process.env,
      TENANT_CONFIG_TABLE: out.regional.tenant_config_table,
      TENANT_REGISTRY_TABLE: out.regional.tenant_registry_table,
      DELIVERY_LEDGER_TABLE: out.regional.delivery_ledger_table,
      CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: out.regional.central_log_distribution_role_arn,
    });
    // Skipped objects are expected here (globex selects only API logs): show errors only.
    const telemetry = new JsonLinesTelemetry(process.stderr, "error");
    const results: MessageResult[] = [];
    const distributor = createDistributor(settings, telemetry);
    await new SqsWorker(
      distributor.engine,
      new SqsQueue(new SQSClient({}), out.regional.delivery_queue_url!),
      telemetry,
      { untilEmpty: true, waitSeconds: 1, visibilitySeconds: 60, onResult: (r) => results.push(r) },
    ).run(new AbortController().signal);

    const summary = summarize(results.flatMap((r) => r.objects));
    say("");
    say(
      table(
        [
          "TENANT",
          "DESTINATION",
          "OBJECTS",
          "CLOUDWATCH EVENTS",
          "S3 OBJECTS",
          "REJECTED",
          "SKIPPED",
          "PARKED",
          "FAILED",
          "MAX LATENCY",
        ],
        summary.rows.map((r) => [
          r.tenant,
          r.destination,
          r.objects,
          r.cloudwatchEvents,
          r.s3Objects,
          r.rejected,
          r.skipped,
          r.parked,
          r.failed,
          r.maxLatencyMs !== undefined ? `${r.maxLatencyMs} ms` : "-",
        ]),
      ),
    );
    for (const r of summary.reasons) say(`  ${r.tenant}: ${r.objects} ${r.status} (${r.reason})`);
    say("");
    say("Each cluster's heartbeat, as the distributor recorded it (logrelay status shows the same):");
    const pulses = clusterPulses(
      ws.env.clusters.map((c) => c.id),
      (await distributor.pulses?.all()) ?? [],
      ws.env.heartbeat.stale_after_seconds,
      new Date(),
    );
    say(
      table(
        ["CLUSTER", "STATE", "LAST HEARTBEAT", "LAG", "GAPS"],
        pulses.map((c) => [
          c.clusterId,
          c.state,
          c.lastHeartbeatAt ?? "-",
          `${c.lagSeconds ?? "-"} s`,
          c.gaps,
        ]),
      ),
    );
    say("Names to use next (regional stack outputs):");
    for (const [what, value] of [
      ["delivery queue", out.regional.delivery_queue_url],
      ["dead-letter queue", out.regional.delivery_dlq_url],
      ["staging bucket", out.regional.staging_bucket],
      ["config table", out.regional.tenant_config_table],
      ["registry table", out.regional.tenant_registry_table],
      ["delivery ledger", out.regional.delivery_ledger_table],
      ["audit trail", out.regional.tenant_audit_table],
      ["alarm topic", out.regional.alarm_topic_arn],
    ] as const)
      say(`  ${what.padEnd(18)} ${value}`);
    say("");

    say("What each customer account received (read back from the emulator):");
    const sts = new STSClient({});
    for (const customer of ws.env.customers) {
      const c = await sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${customer.account_id}:role/look`,
          RoleSessionName: "look",
        }),
      );
      const credentials = {
        accessKeyId: c.Credentials!.AccessKeyId!,
        secretAccessKey: c.Credentials!.SecretAccessKey!,
        sessionToken: c.Credentials!.SessionToken!,
      };
      const group = `/logrelay/${customer.tenant_id}`;
      const events = await new CloudWatchLogsClient({ credentials })
        .send(new FilterLogEventsCommand({ logGroupName: group, limit: 3 }))
        .then((r) => r.events ?? [])
        .catch(() => []);
      say(`  account ${customer.account_id} (${customer.tenant_id}), log group ${group}:`);
      for (const e of events) say(`    [${e.logStreamName}] ${e.message}`);
    }
    say("");
    say(
      `Done in ${((Date.now() - started) / 1000).toFixed(0)} s. Terraform state and synthesized stacks: ${work}`,
    );
    if (keep) {
      say(`The emulator keeps running at ${moto.endpoint}. Point any command at it from another shell:`);
      say(
        `  export AWS_ENDPOINT_URL=${moto.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 ` +
          `TENANT_CONFIG_TABLE=${out.regional.tenant_config_table} TENANT_REGISTRY_TABLE=${out.regional.tenant_registry_table} ` +
          `DELIVERY_LEDGER_TABLE=${out.regional.delivery_ledger_table} AUDIT_TABLE=${out.regional.tenant_audit_table} ` +
          `CENTRAL_LOG_DISTRIBUTION_ROLE_ARN=${out.regional.central_log_distribution_role_arn}`,
      );
      say("  npx logrelay parked list");
      say(`  npx logrelay status --environment local --check`);
      say(`  npx logrelay infra drift --environment local --state-dir ${ws.stateDir} --outdir ${ws.outdir}`);
      say(`  npx logrelay dlq inspect --dlq-url ${out.regional.delivery_dlq_url}`);
      say(`  aws s3 ls s3://${out.regional.staging_bucket} --recursive`);
      say("Press Ctrl-C to stop it.");
      await new Promise(() => {});
    }
  } finally {
    if (!keep) {
      await stop();
      say("emulator stopped.");
    }
  }
}

main().catch(async (error) => {
  process.stderr.write(`npm start failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
