import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { buildDistributorImage, CONTAINERFILE } from "../../scripts/build-distributor-image";
import { distributorDeployment, HEARTBEAT_FILE } from "../../stacks/in-cluster-distributor";
import { regionalResourceNames } from "../../stacks/naming";
import {
  CENTRAL_ACCOUNT,
  clientsFor,
  createBucket,
  createConfigTable,
  createLedgerTable,
  createRegistryTable,
  putConfig,
  putObject,
  REGION,
  readLogGroup,
  registerTenant,
} from "../harness/aws";
import { ndjsonGz, s3Event, snsEnvelope, vectorEvent } from "../harness/factories";
import { useMoto } from "../harness/moto-suite";
import { env } from "../harness/synth";

const e = env({
  clusters: [
    {
      id: "rosa-1",
      region: "us-east-1",
      oidc_issuer_url: "https://oidc.example.com/x",
      distributor: { image: "img:1" },
    },
  ],
});
const regional = regionalResourceNames(e, "us-east-1");
const deployment = distributorDeployment(e, "logrelay", e.clusters[0]!, regional, "img:1", 1);
const container = deployment.spec.template.spec.containers[0]!;

/** What functions/distributor/Containerfile builds, without a container runtime: its one program. */
describe("the in-cluster distributor image (functions/distributor/Containerfile)", () => {
  useMoto();
  let bundle = "";

  beforeAll(() => {
    bundle = buildDistributorImage();
  }, 60_000);

  it("ships the bundled CLI and runs it as the non-root user the Deployment expects", () => {
    const text = readFileSync(CONTAINERFILE, "utf8");
    expect(text).toMatch(/^COPY build\/distributor\/logrelay\.js \/app\/logrelay\.js$/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/app\/logrelay\.js"\]$/m);
    const [, uid, gid] = /^USER (\d+):(\d+)$/m.exec(text)!;
    expect(deployment.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: Number(uid),
      runAsGroup: Number(gid),
    });
    expect(bundle.endsWith(join("build", "distributor", "logrelay.js"))).toBe(true);
  });

  it("the bundled program, started with the Deployment's args and env, drains the queue and beats its heartbeat", async () => {
    const table = "logrelay-image-configs";
    const ledger = "logrelay-image-ledger";
    const bucket = "logrelay-image-staging";
    const key = "img-tenant/rosa-1/payment-service/pay-0/1763632800-x.log.gz";
    const registry = "logrelay-image-registry";
    await createConfigTable(table);
    await createRegistryTable(registry);
    await registerTenant(registry, "img-tenant", ["333333333333"]);
    await createLedgerTable(ledger);
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    await createBucket(s3, bucket);
    await putObject(s3, bucket, key, ndjsonGz([vectorEvent("from the image", new Date())]));
    await putConfig(table, {
      tenant_id: "img-tenant",
      type: "cloudwatch",
      log_distribution_role_arn: "arn:aws:iam::333333333333:role/LogDistribution",
      external_id: "ext-img",
      log_group_name: "/image/tenant",
    });
    const sqs = new SQSClient({ region: REGION });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "logrelay-image-delivery" }));
    await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(snsEnvelope(s3Event(bucket, key))) }),
    );
    const heartbeat = join(mkdtempSync(join(tmpdir(), "logrelay-image-")), "alive");

    // The manifest's args and env, pointed at the emulator's resources.
    const manifestEnv = Object.fromEntries(container.env.map((v) => [v.name, v.value]));
    const args = container.args.map((a) =>
      a === regional.deliveryQueueUrl ? QueueUrl! : a === HEARTBEAT_FILE ? heartbeat : a,
    );
    expect(Object.keys(manifestEnv).sort()).toEqual([
      "ALARM_TOPIC_ARN",
      "AWS_REGION",
      "CENTRAL_LOG_DISTRIBUTION_ROLE_ARN",
      "DELIVERY_LEDGER_TABLE",
      "HEARTBEAT_TENANT",
      "LEDGER_TTL_DAYS",
      "LOG_GROUP_RETENTION_DAYS",
      "METERED_TENANTS",
      "METRICS_NAMESPACE",
      "NODE_OPTIONS",
      "POWERTOOLS_LOG_LEVEL",
      "POWERTOOLS_SERVICE_NAME",
      "QUEUE_MAX_RECEIVE_COUNT",
      "STAGING_BUCKETS",
      "TENANT_CONFIG_TABLE",
      "TENANT_METRICS",
      "TENANT_REGISTRY_TABLE",
    ]);
    const child = spawn(process.execPath, [bundle, ...args, "--until-empty"], {
      env: {
        ...process.env,
        AWS_REGION: REGION,
        TENANT_CONFIG_TABLE: table,
        TENANT_REGISTRY_TABLE: registry,
        // The manifest names the regional staging bucket; here, the suite's.
        STAGING_BUCKETS: bucket,
        DELIVERY_LEDGER_TABLE: ledger,
        LEDGER_TTL_DAYS: manifestEnv.LEDGER_TTL_DAYS,
        LOG_GROUP_RETENTION_DAYS: manifestEnv.LOG_GROUP_RETENTION_DAYS,
        CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: `arn:aws:iam::${CENTRAL_ACCOUNT}:role/logrelay-central`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const err: Buffer[] = [];
    child.stderr.on("data", (d: Buffer) => void err.push(d));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));

    expect([code, Buffer.concat(err).toString()]).toEqual([
      0,
      expect.stringContaining(
        "received 1, acknowledged 1 (1 delivered, 0 parked, 0 failed permanently), left for retry 0",
      ),
    ]);
    // One process, one worker: the bundle runs main() exactly once.
    expect(
      Buffer.concat(err)
        .toString()
        .match(/received \d+, acknowledged/g),
    ).toHaveLength(1);
    expect(Date.now() - statSync(heartbeat).mtimeMs).toBeLessThan(60_000);
    const logs = (await clientsFor("333333333333")).logs;
    const group = await readLogGroup(logs, "/image/tenant");
    expect(
      Object.values(group ?? {})
        .flat()
        .map((ev) => ev.message),
    ).toEqual(["from the image"]);
  }, 60_000);
});
