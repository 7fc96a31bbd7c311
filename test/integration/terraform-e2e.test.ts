import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { SqsQueue } from "../../functions/distributor/adapters/sqs-queue";
import { SqsWorker } from "../../functions/distributor/intake/worker";
import { loadSettings } from "../../functions/distributor/settings";
import { createDistributor, createEngine } from "../../functions/distributor/wiring";
import {
  putConfigs,
  putRegistrations,
  type SampleObject,
  sampleConfigs,
  writeSampleLogs,
} from "../../scripts/sample-data";
import { expectNoChanges, useAppliedEnvironment } from "../harness/applied-environment";
import { clientsFor, documentClient, REGION, readLogGroup } from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { MemoryTelemetry } from "../harness/memory-telemetry";

/**
 * The whole pipeline as users deploy it: `cdktf synth`, then terraform init/validate/apply of the
 * local environment's stacks into the emulator, a second plan with no changes, logs through
 * S3 -> SNS -> SQS, the distributor polling the deployed queue, and teardown.
 */
describe("local environment applied by terraform into the emulator, end to end", () => {
  const env = useAppliedEnvironment("local", (ws) => {
    const acme = ws.env.customers.find((c) => c.tenant_id === "acme")!;
    return [{ account: acme.account_id, name: acme.bucket!.name }];
  });

  it("a second plan of every stack shows no changes", async () => {
    await expectNoChanges(env.ws());
  }, 300_000);

  it("`logrelay infra drift` names the stack and resource changed outside Terraform, the others are clean; `infra deploy` puts it back", async () => {
    const ws = env.ws();
    const sqs = new SQSClient({ region: REGION });
    const dlq = env.out().regional.delivery_dlq_url!;
    const visibility = async () =>
      (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["VisibilityTimeout"] }),
        )
      ).Attributes!.VisibilityTimeout;
    const before = await visibility();
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: dlq, Attributes: { VisibilityTimeout: "77" } }));
    const infra = (...args: string[]) =>
      runCaptured(
        [
          "infra",
          ...args,
          "--environment",
          "local",
          "--state-dir",
          ws.stateDir,
          "--outdir",
          join(ws.outdir, "infra"),
        ],
        process.env,
      );

    const drift = await infra("drift", "-o", "json");

    expect([drift.code, drift.err.trim().split("\n").at(-1)]).toEqual([
      2,
      `logrelay: 1 stack(s) drifted from their state: ${ws.stacks.regional}`,
    ]);
    const reports = JSON.parse(drift.out) as {
      stacks: { stack: string; result: string; drift: unknown[] }[];
    };
    expect(reports.stacks.map((r) => [r.stack, r.result])).toEqual(
      [ws.stacks.global, ws.stacks.regional, ...ws.stacks.customers, ...ws.stacks.clusters].map((name) => [
        name,
        name === ws.stacks.regional ? "drifted" : "no changes",
      ]),
    );
    expect(reports.stacks.find((r) => r.stack === ws.stacks.regional)!.drift).toEqual([
      {
        address: expect.stringMatching(/^aws_sqs_queue\.notifications_queue_dlq_/),
        actions: ["update"],
        attributes: ["visibility_timeout_seconds"],
      },
    ]);
    // Progress goes to stderr, one line per stack.
    expect(drift.err).toMatch(/^synthesized 5 of 5 stacks into .* drift, \d+ at a time$/m);
    expect(drift.err.match(/^\[\d\/5\] /gm)).toHaveLength(5);

    const deploy = await infra("deploy", "--stacks", "us-east-1");
    expect([deploy.code, deploy.err.split("\n").filter((l) => l.startsWith("logrelay:"))]).toEqual([0, []]);
    expect(deploy.out).toMatch(new RegExp(`^${ws.stacks.regional} +applied +0 +1 +0 +1 `, "m"));
    expect(await visibility()).toBe(before);
    const again = await infra("drift", "--stacks", "us-east-1");
    expect([again.code, again.out]).toEqual([
      0,
      expect.stringMatching(/drift: 1 stack\(s\), 1 no changes, in /),
    ]);
  }, 300_000);

  it("`logrelay infra` keeps state in S3 with a lock file when the environment says so", async () => {
    const s3 = new S3Client({ region: REGION });
    const bucket = "logrelay-tfstate-123456789012";
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const dir = mkdtempSync(join(tmpdir(), "logrelay-s3state-"));
    const file = join(dir, "s3state.json");
    writeFileSync(
      file,
      JSON.stringify({
        ...env.ws().env,
        name: "s3state",
        backend: { type: "s3", bucket, region: REGION, key_prefix: "fleet/" },
        customers: [],
        clusters: [],
        tenant_freshness: [],
      }),
    );
    const infra = (...args: string[]) =>
      runCaptured(
        ["infra", ...args, "--environment", file, "--stacks", "global", "--outdir", join(dir, "out")],
        process.env,
      );

    const deploy = await infra("deploy");
    expect([deploy.code, deploy.out]).toEqual([
      0,
      // The central role and its policy, the heartbeat role and its policy.
      expect.stringMatching(/^logrelay-s3state-global +applied +4 +0 +0 /m),
    ]);
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key);
    expect(keys).toEqual(["fleet/logrelay-s3state-global.tfstate"]);
    const drift = await infra("drift");
    expect([drift.code, drift.out]).toEqual([
      0,
      expect.stringMatching(/^logrelay-s3state-global +no changes +0 +0 +0 +0 /m),
    ]);
  }, 300_000);

  it("delivers each tenant's logs only into its own account, through the deployed queue", async () => {
    const ws = env.ws();
    const out = env.out();
    const db = documentClient();
    const roleArnOf = (tenant: string) => out.customers[tenant]!.log_distribution_role_arn!;
    const configs = sampleConfigs(ws.env, roleArnOf);
    await putRegistrations(db, out.regional.tenant_registry_table!, configs);
    await putConfigs(db, out.regional.tenant_config_table!, configs);
    const objects = await writeSampleLogs(new S3Client({ region: REGION }), out.regional.staging_bucket!);

    const settings = loadSettings({
      ...process.env,
      TENANT_CONFIG_TABLE: out.regional.tenant_config_table,
      TENANT_REGISTRY_TABLE: out.regional.tenant_registry_table,
      DELIVERY_LEDGER_TABLE: out.regional.delivery_ledger_table,
      CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: out.regional.central_log_distribution_role_arn,
    });
    const telemetry = new MemoryTelemetry();
    const worker = new SqsWorker(
      createEngine(settings, telemetry),
      new SqsQueue(new SQSClient({ region: REGION }), out.regional.delivery_queue_url!),
      telemetry,
      { untilEmpty: true, waitSeconds: 1, visibilitySeconds: 60 },
    );
    const stats = await worker.run(new AbortController().signal);

    // 4 objects: 3 delivered, globex's checkout app settled as "not selected" (its config wants API logs).
    expect(stats).toMatchObject({ retried: 0, delivered: 3, failedPermanent: 0 });
    expect(stats.acknowledged).toBe(stats.received);
    const expect_ = (tenant: string, app: (o: SampleObject) => boolean) =>
      objects
        .filter((o) => o.tenant === tenant && app(o))
        .flatMap((o) => o.messages)
        .sort();
    const acmeAccount = ws.env.customers.find((c) => c.tenant_id === "acme")!;
    const globexAccount = ws.env.customers.find((c) => c.tenant_id === "globex")!;
    const acme = await clientsFor(acmeAccount.account_id);
    const globex = await clientsFor(globexAccount.account_id);

    const acmeGroup = await readLogGroup(acme.logs, "/logrelay/acme");
    expect(
      Object.values(acmeGroup ?? {})
        .flat()
        .map((e) => e.message)
        .sort(),
    ).toEqual(expect_("acme", () => true));
    const globexGroup = await readLogGroup(globex.logs, "/logrelay/globex");
    expect(
      Object.values(globexGroup ?? {})
        .flat()
        .map((e) => e.message)
        .sort(),
    ).toEqual(expect_("globex", (o) => o.application === "kube-apiserver"));
    expect(await readLogGroup(globex.logs, "/logrelay/acme")).toBeUndefined();
    expect(await readLogGroup(acme.logs, "/logrelay/globex")).toBeUndefined();

    const paymentObject = objects.find((o) => o.application === "payment-service")!;
    const copy = await acme.s3.send(
      new GetObjectCommand({
        Bucket: acmeAccount.bucket!.name,
        Key: `${acmeAccount.bucket!.prefix}${paymentObject.key}`,
      }),
    );
    expect(copy.Metadata?.["logrelay-source-key"]).toBe(paymentObject.key);
  }, 300_000);

  it("the deployed ledger's index lists parked deliveries, and the encrypted alarm topic takes the notice", async () => {
    const out = env.out();
    const telemetry = new MemoryTelemetry();
    const { parking } = createDistributor(
      loadSettings({
        ...process.env,
        TENANT_CONFIG_TABLE: out.regional.tenant_config_table,
        TENANT_REGISTRY_TABLE: out.regional.tenant_registry_table,
        DELIVERY_LEDGER_TABLE: out.regional.delivery_ledger_table,
        CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: out.regional.central_log_distribution_role_arn,
        ALARM_TOPIC_ARN: out.regional.alarm_topic_arn,
        STAGING_BUCKETS: out.regional.staging_bucket,
      }),
      telemetry,
    );
    const ref = { tenantId: "acme", type: "s3" as const, target: "s3://acme-gone/" };
    for (let i = 0; i < 3; i++) await parking!.parked(ref, "S3 refused: NoSuchBucket", true);

    expect(telemetry.lines.filter((l) => l.level === "warn")).toEqual([]);
    expect(telemetry.lines.map((l) => l.message)).toContain("destination parked");
    const [state] = await parking!.store.destinations();
    expect(state).toMatchObject({ tenantId: "acme", state: "open", streak: 3 });
    expect(await parking!.close(state!)).toBe(true);
  });
});
