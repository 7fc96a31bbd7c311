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
import { JsonLinesTelemetry } from "../functions/distributor/adapters/json-lines-telemetry";
import { SqsQueue } from "../functions/distributor/adapters/sqs-queue";
import type { MessageResult } from "../functions/distributor/outcome-report";
import { loadSettings } from "../functions/distributor/settings";
import { createEngine } from "../functions/distributor/wiring";
import { SqsWorker } from "../functions/distributor/worker";
import { applyLocal, localOutputs, localWorkspace, ROOT, synthLocal } from "./local-pipeline";
import { emulatorEnv, startMoto } from "./moto";
import { putConfigs, putRegistrations, sampleConfigs, writeSampleLogs } from "./sample-data";
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
    say("2/5 terraform init + validate + apply (about 2 minutes: the emulator's SQS and S3 waiters)");
    await applyLocal(ws, (m) => say(`    ${m}`));
    const out = await localOutputs(ws);

    say("3/5 registering sample tenants");
    const configs = sampleConfigs(ws.env, (t) => out.customers[t]!.log_distribution_role_arn!);
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await putRegistrations(db, out.regional.tenant_registry_table!, configs);
    await putConfigs(db, out.regional.tenant_config_table!, configs);
    for (const c of configs) {
      const where = c.type === "cloudwatch" ? c.log_group_name : `s3://${c.bucket_name}/${c.bucket_prefix}`;
      const filter =
        [...c.desired_logs, ...c.groups.map((g) => `group:${g}`)].join(",") || "all applications";
      say(`    ${c.tenant_id.padEnd(8)} ${c.type.padEnd(10)} -> ${where} (${filter})`);
    }

    say("4/5 writing sample logs into the staging bucket");
    const objects = await writeSampleLogs(new S3Client({}), out.regional.staging_bucket!);
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
    await new SqsWorker(
      createEngine(settings, telemetry),
      new SqsQueue(new SQSClient({}), out.regional.delivery_queue_url!),
      telemetry,
      { untilEmpty: true, waitSeconds: 1, visibilitySeconds: 60, onResult: (r) => results.push(r) },
    ).run(new AbortController().signal);

    const rows = new Map<
      string,
      {
        objects: number;
        delivered: number;
        rejected: number;
        destinations: Set<string>;
        latency: number[];
        skipped: number;
        parked: number;
        failed: number;
      }
    >();
    for (const o of results.flatMap((r) => r.objects)) {
      const row = rows.get(o.tenantId ?? "-") ?? {
        objects: 0,
        delivered: 0,
        rejected: 0,
        destinations: new Set(),
        latency: [],
        skipped: 0,
        parked: 0,
        failed: 0,
      };
      row.objects++;
      if (o.status === "skipped") row.skipped++;
      if (o.status === "parked") row.parked++;
      if (o.status.startsWith("failed")) row.failed++;
      for (const d of o.destinations) {
        row.delivered += d.eventsDelivered;
        row.rejected += d.eventsRejected;
        if (d.status === "delivered") row.destinations.add(d.type);
      }
      if (o.status === "delivered") row.latency.push(o.latencyMs);
      rows.set(o.tenantId ?? "-", row);
    }
    say("");
    say(
      table(
        [
          "TENANT",
          "OBJECTS",
          "EVENTS DELIVERED",
          "REJECTED",
          "SKIPPED OBJECTS",
          "PARKED",
          "FAILED",
          "DESTINATIONS",
          "MAX LATENCY",
        ],
        [...rows.entries()].map(([tenant, r]) => [
          tenant,
          r.objects,
          r.delivered,
          r.rejected,
          r.skipped,
          r.parked,
          r.failed,
          [...r.destinations].sort().join("+") || "-",
          r.latency.length ? `${Math.max(...r.latency)} ms` : "-",
        ]),
      ),
    );

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
      say(`The emulator keeps running at ${moto.endpoint}. Look around, e.g.:`);
      say(
        `  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url ${moto.endpoint} --region us-east-1 s3 ls s3://${out.regional.staging_bucket} --recursive`,
      );
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
