import { gzipSync } from "node:zlib";
import {
  DeleteObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { DynamoDbParkingStore } from "../../functions/distributor/adapters/dynamodb-parking";
import { SqsQueue } from "../../functions/distributor/adapters/sqs-queue";
import { SqsWorker } from "../../functions/distributor/intake/worker";
import { loadSettings } from "../../functions/distributor/settings";
import { createDistributor } from "../../functions/distributor/wiring";
import {
  CENTRAL_ACCOUNT,
  clientsFor,
  createBucket,
  createConfigTable,
  createLedgerTable,
  createRegistryTable,
  distributorEnv,
  documentClient,
  putConfig,
  REGION,
  readLogGroup,
  registerTenant,
} from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { s3Event, snsEnvelope } from "../harness/factories";
import { FaultProxy, queryError } from "../harness/fault-proxy";
import { MemoryTelemetry } from "../harness/memory-telemetry";
import { useMoto } from "../harness/moto-suite";

/**
 * Parked deliveries against the emulator: a customer's role refuses (STS answers AccessDenied as
 * AWS does, through a proxy), the distributor parks instead of dropping, opens the breaker, says so
 * on the alarm topic; once the refusal is lifted, `logrelay parked recover` delivers everything
 * that waited. Counts are taken in the customer's account.
 */

const BUCKET = "logrelay-parked-staging";
const CONFIG = "parked-configs";
const REGISTRY = "parked-registry";
const LEDGER = "parked-ledger";
const STEADY = "333333333333";
const EXPIRY_DAYS = 14;

/** STS refuses the customer's logrelay role (the form body names it URL-encoded). */
const denyRole = (account: string) => ({
  operation: "AssumeRole",
  bodyIncludes: `${account}%3Arole%2Flogrelay%2FLogDistribution`,
  action: queryError(
    "AccessDenied",
    `User: arn:aws:sts::${CENTRAL_ACCOUNT}:assumed-role/central/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${account}:role/logrelay/LogDistribution`,
    403,
  ),
});

describe("parked deliveries end to end (emulator, STS refusals injected)", () => {
  const moto = useMoto();
  let proxy: FaultProxy;
  let topicArn: string;
  let noticesUrl: string;
  let queueUrl: string;
  const sqs = () => new SQSClient({ region: REGION });
  const env = () =>
    distributorEnv(
      { config: CONFIG, registry: REGISTRY, ledger: LEDGER },
      {
        CONFIG_CACHE_TTL_SECONDS: "0",
        STAGING_BUCKETS: BUCKET,
        ALARM_TOPIC_ARN: topicArn,
        RETRY_BASE_DELAY_MS: "5",
        RETRY_MAX_DELAY_MS: "40",
      },
    );
  const cli = (...argv: string[]) => runCaptured(argv, env());

  beforeAll(async () => {
    proxy = new FaultProxy(moto());
    process.env.AWS_ENDPOINT_URL = await proxy.start();
    await createConfigTable(CONFIG);
    await createRegistryTable(REGISTRY);
    await createLedgerTable(LEDGER);
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    await createBucket(s3, BUCKET);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: BUCKET,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: "expire-staged-objects",
              Status: "Enabled",
              Filter: { Prefix: "" },
              Expiration: { Days: EXPIRY_DAYS },
            },
          ],
        },
      }),
    );
    const sns = new SNSClient({ region: REGION });
    topicArn = (await sns.send(new CreateTopicCommand({ Name: "parked-alarms" }))).TopicArn!;
    noticesUrl = (await sqs().send(new CreateQueueCommand({ QueueName: "parked-notices" }))).QueueUrl!;
    const noticesArn = (
      await sqs().send(new GetQueueAttributesCommand({ QueueUrl: noticesUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: noticesArn }));
    queueUrl = (await sqs().send(new CreateQueueCommand({ QueueName: "parked-delivery" }))).QueueUrl!;
  });
  afterEach(() => proxy.setRules([]));
  afterAll(() => proxy.stop());

  async function configure(tenant: string, account: string): Promise<string> {
    const group = `/logrelay/${tenant}`;
    await registerTenant(REGISTRY, tenant, [account]);
    await putConfig(CONFIG, {
      tenant_id: tenant,
      type: "cloudwatch",
      log_distribution_role_arn: `arn:aws:iam::${account}:role/logrelay/LogDistribution`,
      external_id: `ext-${tenant}-0001`,
      log_group_name: group,
    });
    return group;
  }

  /**
   * Object `i` of a tenant, all in one stream (same pod and day), `n` events with unique ids and
   * rising times; its notification goes to the delivery queue. Returns the events.
   */
  async function stage(tenant: string, i: number, n = 400) {
    const start = Date.now() - 3_600_000 + i * 10_000;
    const events = Array.from({ length: n }, (_, j) => ({
      message: `${tenant}:${i}:${j}`,
      timestamp: new Date(start + j).toISOString(),
    }));
    const key = `${tenant}/cluster-1/app/pod-1/${1700000000 + i}-${i}.log.gz`;
    const body = gzipSync(`${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const notification = snsEnvelope(
      s3Event(BUCKET, key, { eTag: out.ETag!, size: body.length, eventTime: new Date(start) }),
    );
    await sqs().send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(notification) }),
    );
    return { key, events, notification };
  }

  let lastTelemetry: MemoryTelemetry | undefined;
  async function runWorker() {
    lastTelemetry = new MemoryTelemetry();
    const { engine } = createDistributor(loadSettings(env()), lastTelemetry);
    const worker = new SqsWorker(engine, new SqsQueue(sqs(), queueUrl), new MemoryTelemetry(), {
      visibilitySeconds: 60,
      untilEmpty: true,
    });
    return worker.run(new AbortController().signal);
  }

  /** Messages in the tenant's log group, in stream order. */
  async function delivered(group: string, account: string): Promise<string[]> {
    const { logs } = await clientsFor(account);
    return Object.values((await readLogGroup(logs, group)) ?? {})
      .flat()
      .map((e) => e.message);
  }

  /** Notices on the alarm topic so far (taken off the subscribed queue). */
  async function notices(): Promise<{ subject: string; state: string; tenant: string; message: string }[]> {
    const found = [];
    for (;;) {
      const out = await sqs().send(
        new ReceiveMessageCommand({ QueueUrl: noticesUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!out.Messages?.length) return found;
      for (const m of out.Messages) {
        const envelope = JSON.parse(m.Body!);
        found.push({
          subject: envelope.Subject,
          state: envelope.MessageAttributes?.state?.Value,
          tenant: envelope.MessageAttributes?.tenant_id?.Value,
          message: envelope.Message,
        });
        await sqs().send(new DeleteMessageCommand({ QueueUrl: noticesUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  }

  it("parks while the role refuses (breaker open: no more AssumeRole, one notice), then delivers every event once, in order", async () => {
    const brokenGroup = await configure("broken", "444444444444");
    const steadyGroup = await configure("steady", STEADY);
    proxy.setRules([denyRole("444444444444")]);
    const expected: string[] = [];
    const first = await stage("broken", 0);
    expected.push(...first.events.map((e) => e.message));
    for (let i = 1; i < 8; i++) expected.push(...(await stage("broken", i)).events.map((e) => e.message));
    const steady = [...(await stage("steady", 0)).events, ...(await stage("steady", 1)).events];

    const stats = await runWorker();

    // Every message acknowledged; the other tenant is untouched by the broken one.
    expect(stats).toMatchObject({ received: 10, acknowledged: 10, delivered: 2, parked: 8, retried: 0 });
    expect(await delivered(steadyGroup, STEADY)).toEqual(steady.map((e) => e.message));
    expect(await delivered(brokenGroup, "444444444444")).toEqual([]);
    // Concurrent deliveries of one destination share one AssumeRole; the refusals opened the breaker.
    const refusals = proxy.injected.get("AssumeRole") ?? 0;
    expect(refusals).toBeGreaterThanOrEqual(1);
    // With the breaker open, later objects are parked without calling STS at all.
    for (let i = 8; i < 11; i++) expected.push(...(await stage("broken", i)).events.map((e) => e.message));
    expect(await runWorker()).toMatchObject({ received: 3, parked: 3, retried: 0 });
    expect(proxy.injected.get("AssumeRole") ?? 0).toBe(refusals);
    const opened = await notices();
    expect(opened).toEqual([
      expect.objectContaining({
        subject: "logrelay: broken cloudwatch destination parked",
        state: "open",
        tenant: "broken",
      }),
    ]);
    expect(opened[0]!.message).toMatch(/parked, not dropped/);
    expect(opened[0]!.message).toMatch(new RegExp(`more than ${EXPIRY_DAYS} days`));

    const list = await cli("parked", "list", "-o", "json");
    expect(list.code).toBe(0);
    const [row] = JSON.parse(list.out);
    expect(row).toMatchObject({
      tenant_id: "broken",
      type: "cloudwatch",
      target: "cloudwatch:us-east-1:444444444444:/logrelay/broken",
      breaker: "open",
      objects: 11,
      lost: 0,
      reason: expect.stringMatching(/AccessDenied|refused AssumeRole/),
    });
    expect(row.bytes).toBeGreaterThan(11 * 1000);
    expect(Date.parse(row.oldest_expires) - Date.parse(row.oldest)).toBe(EXPIRY_DAYS * 86_400_000);
    expect((await cli("parked", "list")).out).toMatch(
      /broken\s+cloudwatch\s+cloudwatch:us-east-1:444444444444/,
    );

    // Still refused: the scheduled run's probe fails, nothing moves, exit 3 says something waits.
    const stillBroken = await cli("parked", "recover", "-o", "json");
    expect(stillBroken.code).toBe(3);
    expect(JSON.parse(stillBroken.out)[0]).toMatchObject({
      delivered: 0,
      still_parked: 11,
      probe: { ok: false },
    });
    expect(await delivered(brokenGroup, "444444444444")).toEqual([]);

    // The customer fixes the role.
    proxy.setRules([]);
    const recovered = await cli("parked", "recover", "-o", "json");
    expect(recovered.code).toBe(0);
    expect(JSON.parse(recovered.out)).toEqual([
      expect.objectContaining({ tenant_id: "broken", delivered: 11, lost: 0, still_parked: 0, closed: true }),
    ]);
    // Once each, in the order written (one stream across the 11 objects).
    expect(await delivered(brokenGroup, "444444444444")).toEqual(expected);
    expect(await notices()).toEqual([expect.objectContaining({ state: "closed", tenant: "broken" })]);
    expect((await cli("parked", "list")).out).toBe("nothing parked\n");

    // Nothing doubles afterwards: another run, and a late duplicate of a parked object's notification.
    expect((await cli("parked", "recover")).code).toBe(0);
    await sqs().send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(first.notification) }),
    );
    expect(await runWorker()).toMatchObject({ received: 1, delivered: 1 });
    expect(await delivered(brokenGroup, "444444444444")).toEqual(expected);
  }, 180_000);

  it("reports parked objects whose staging copy expired as lost, per tenant, with counts and time range", async () => {
    await configure("expired", "666666666666");
    proxy.setRules([denyRole("666666666666")]);
    const staged = [];
    for (let i = 0; i < 3; i++) staged.push(await stage("expired", i, 10));
    await runWorker();
    await notices();
    // The bucket's lifecycle removed the two oldest while the customer's role was broken.
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    for (const { key } of staged.slice(0, 2))
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));

    const run = await cli("parked", "recover", "-o", "json");

    expect(run.code).toBe(3);
    const result = JSON.parse(run.out).find((r: { tenant_id: string }) => r.tenant_id === "expired");
    expect(result).toMatchObject({ delivered: 0, lost: 2, still_parked: 1 });
    expect(result.lost_range.from < result.lost_range.to).toBe(true);
    const lost = (await notices()).find((n) => n.state === "lost");
    expect(lost?.message).toMatch(
      /2 parked object\(s\) from .* to .* are lost: .*not found \(expired or deleted\?\)/,
    );
    const [row] = JSON.parse((await cli("parked", "list", "--tenant", "expired", "-o", "json")).out);
    expect(row).toMatchObject({ objects: 1, lost: 2, lost_range: result.lost_range });
  }, 120_000);

  it("the breaker opens once under concurrent parks (one notice per state change)", async () => {
    const store = new DynamoDbParkingStore(documentClient(), LEDGER, 29);
    const ref = { tenantId: "racy", type: "s3" as const, target: "s3://racy-archive/" };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.recordPark(ref, "AccessDenied", { threshold: 3 })),
    );
    expect(results.filter((r) => r.opened)).toHaveLength(1);
    expect(await store.destination(ref)).toMatchObject({ state: "open", streak: 8 });
    expect(await Promise.all([store.close(ref), store.close(ref)])).toEqual(
      expect.arrayContaining([true, false]),
    );
  });

  it("refuses bad arguments with one line: a bad tenant id, a missing ledger setting", async () => {
    const bad = await cli("parked", "retry", "--tenant", "Not A Tenant");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^logrelay: --tenant "Not A Tenant" is not a tenant id/);
    const noLedger = await runCaptured(["parked", "list"], { ...env(), DELIVERY_LEDGER_TABLE: "" });
    expect(noLedger.code).toBe(2);
    expect(noLedger.err).toMatch(/DELIVERY_LEDGER_TABLE/);
    expect(noLedger.err.split("\n").filter(Boolean)).toHaveLength(1);
  });
});
