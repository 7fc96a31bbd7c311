import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  CENTRAL_ACCOUNT,
  clientsFor,
  createBucket,
  createConfigTable,
  createRegistryTable,
  distributorEnv,
  putConfig,
  putObject,
  queueDepth,
  REGION,
  readLogGroup,
  registerTenant,
} from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { ndjsonGz, s3Event, snsEnvelope, vectorEvent } from "../harness/factories";
import { useMoto } from "../harness/moto-suite";

const BUCKET = "logrelay-cli-central";
const TABLE = "logrelay-cli-configs";
const ACCOUNT = "444444444444";
const KEY = "cli-tenant/cluster-7/payment-service/pod-1/1763632800-x.log.gz";

const REGISTRY = "logrelay-cli-registry";
const env = () => distributorEnv({ config: TABLE, registry: REGISTRY });

const run = (argv: string[], stdin = "") => runCaptured(argv, env(), stdin);

describe("logrelay deliver (CLI) against the emulator", () => {
  useMoto();

  beforeAll(async () => {
    await createConfigTable(TABLE);
    await createRegistryTable(REGISTRY);
    await registerTenant(REGISTRY, "cli-tenant", [ACCOUNT]);
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    await createBucket(s3, BUCKET);
    await putObject(s3, BUCKET, KEY, ndjsonGz([vectorEvent("from the cli", new Date())]));
    await putConfig(TABLE, {
      tenant_id: "cli-tenant",
      type: "cloudwatch",
      log_distribution_role_arn: `arn:aws:iam::${ACCOUNT}:role/LogDistribution`,
      external_id: "ext-cli-tenant",
      log_group_name: "/cli/tenant",
    });
  });

  it("delivers one object by --bucket/--key and prints a table", async () => {
    const { code, out } = await run(["deliver", "--bucket", BUCKET, "--key", KEY]);

    expect(code).toBe(0);
    expect(out).toMatch(
      /cli-tenant\s+cli-tenant\/cluster-7\/.*cloudwatch .*\/cli\/tenant\s+delivered\s+1\s+0/,
    );
    const group = await readLogGroup((await clientsFor(ACCOUNT)).logs, "/cli/tenant");
    expect(
      Object.values(group!)
        .flat()
        .map((e) => e.message),
    ).toContain("from the cli");
  });

  it("delivers an S3 event piped on stdin, as JSON output", async () => {
    const { code, out } = await run(["deliver", "--output", "json"], JSON.stringify(s3Event(BUCKET, KEY)));

    expect(code).toBe(0);
    expect(JSON.parse(out)[0].objects[0]).toMatchObject({ tenant_id: "cli-tenant", status: "delivered" });
  });

  it("records with times without a zone land at the stated UTC time, whatever the host's zone (TZ=Asia/Kolkata)", async () => {
    // An hour ago, in UTC, written three ways without a zone.
    const base = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
    const utc = (offsetMs: number) => new Date(base.getTime() + offsetMs).toISOString();
    const stated = [utc(0).replace("T", " ").slice(0, 19), utc(1000).slice(0, 19), utc(2250).slice(0, 23)];
    const key = "cli-tenant/cluster-7/payment-service/pod-tz/1763632800-tz.log.gz";
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    await putObject(s3, BUCKET, key, ndjsonGz(stated.map((time, i) => ({ message: `zoneless ${i}`, time }))));
    const child = spawn(process.execPath, ["bin/logrelay.js", "deliver", "--bucket", BUCKET, "--key", key], {
      env: { ...env(), TZ: "Asia/Kolkata" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);

    const group = await readLogGroup((await clientsFor(ACCOUNT)).logs, "/cli/tenant");
    const zoneless = Object.values(group!)
      .flat()
      .filter((e) => e.message.startsWith("zoneless "))
      .sort((a, b) => a.message.localeCompare(b.message));
    expect(zoneless.map((e) => [e.message, new Date(e.timestamp).toISOString()])).toEqual([
      ["zoneless 0", utc(0)],
      ["zoneless 1", utc(1000)],
      ["zoneless 2", utc(2250)],
    ]);
  });

  it("exits 1 with a readable reason when a delivery fails", async () => {
    const { code, err } = await run([
      "deliver",
      "--bucket",
      BUCKET,
      "--key",
      "cli-tenant/c/app/pod/missing.log.gz",
    ]);

    expect(code).toBe(1);
    expect(err).toMatch(
      /logrelay: delivery failed: cli-tenant\/c\/app\/pod\/missing\.log\.gz: cloudwatch: ObjectNotFoundError: s3:\/\/logrelay-cli-central\/cli-tenant\/c\/app\/pod\/missing\.log\.gz not found \(expired or deleted\?\)/,
    );
  });

  it("exits 2 naming the missing setting", async () => {
    const { code, err } = await runCaptured(["deliver", "--bucket", BUCKET, "--key", KEY], {
      AWS_REGION: REGION,
    });
    expect(code).toBe(2);
    expect(err).toContain("TENANT_CONFIG_TABLE is required");
  });

  it("drains a queue: delivered and malformed messages are deleted, nothing is left", async () => {
    const sqs = new SQSClient({ region: REGION });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "logrelay-cli-delivery" }));
    await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(snsEnvelope(s3Event(BUCKET, KEY))) }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "garbage" }));

    const heartbeatFile = join(mkdtempSync(join(tmpdir(), "logrelay-hb-")), "probe", "alive");
    const { code, err } = await run([
      "deliver",
      "--queue-url",
      QueueUrl!,
      "--until-empty",
      "--heartbeat-file",
      heartbeatFile,
    ]);

    expect(err).toContain(
      "received 2, acknowledged 2 (1 delivered, 0 parked, 1 failed permanently), left for retry 0",
    );
    // The liveness probe's file: written after each receive.
    expect(Date.now() - Date.parse(readFileSync(heartbeatFile, "utf8"))).toBeLessThan(60_000);
    expect(code).toBe(1);
    expect(await queueDepth(sqs, QueueUrl!)).toBe(0);
  });

  it("--until-empty drains a flood it defers: every object reaches the destination once, the queue ends empty", async () => {
    const sqs = new SQSClient({ region: REGION });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "logrelay-cli-flood" }));
    const { s3 } = await clientsFor(CENTRAL_ACCOUNT);
    for (let i = 0; i < 24; i++) {
      const key = `cli-tenant/cluster-7/payment-service/pod-flood/1763632800-${i}.log.gz`;
      await putObject(s3, BUCKET, key, ndjsonGz([vectorEvent(`flood ${i}`, new Date())]));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(s3Event(BUCKET, key)) }));
    }

    // Eight slots, four waiting: the rest of the flood goes back to the queue until there is room.
    const { code, err } = await run([
      "deliver",
      "--queue-url",
      QueueUrl!,
      "--until-empty",
      "--concurrency",
      "8",
    ]);

    expect(err).toMatch(
      /received 24, acknowledged 24 \(24 delivered, 0 parked, 0 failed permanently\), left for retry 0; \d+ deferral\(s\)/,
    );
    expect(code).toBe(0);
    expect(await queueDepth(sqs, QueueUrl!)).toBe(0);
    const group = await readLogGroup((await clientsFor(ACCOUNT)).logs, "/cli/tenant");
    const flood = Object.values(group!)
      .flat()
      .filter((e) => e.message.startsWith("flood "));
    expect(flood.map((e) => e.message).sort()).toEqual(
      Array.from({ length: 24 }, (_, i) => `flood ${i}`).sort(),
    );
  });

  it("--until-empty exits 1 naming the messages still in flight instead of calling the queue empty", async () => {
    const sqs = new SQSClient({ region: REGION });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "logrelay-cli-held" }));
    for (const body of [JSON.stringify(s3Event(BUCKET, KEY)), JSON.stringify(s3Event(BUCKET, KEY))])
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    // Another consumer holds one of them.
    const held = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 300 }),
    );
    expect(held.Messages).toHaveLength(1);

    const { code, err } = await run(["deliver", "--queue-url", QueueUrl!, "--until-empty"]);

    expect(err).toContain(
      "received 1, acknowledged 1 (1 delivered, 0 parked, 0 failed permanently), left for retry 0",
    );
    expect(err).toContain(
      "logrelay: the queue is not empty: 1 in flight (held by another consumer, or back after their visibility timeout for a retry)",
    );
    expect(code).toBe(1);
  });

  it("a queue that does not exist ends the worker at once: exit 1, one line naming the queue and the fix", async () => {
    const sqs = new SQSClient({ region: REGION });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "logrelay-cli-exists" }));
    const missing = QueueUrl!.replace("logrelay-cli-exists", "logrelay-cli-nope");

    const { code, err } = await run(["deliver", "--queue-url", missing]);

    expect(code).toBe(1);
    expect(err).toMatch(
      /logrelay: the queue cannot be received from: QueueDoesNotExist: .*\. Check --queue-url .*logrelay-cli-nope/,
    );
    expect(err).not.toMatch(/\n\s+at /);
  });

  it("the real binary ends quietly when its reader closes the pipe early (| head)", async () => {
    const child = spawn(process.execPath, ["bin/logrelay.js", "deliver", "--help"], {
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    const err: Buffer[] = [];
    child.stderr.on("data", (d: Buffer) => void err.push(d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));

    expect([code, Buffer.concat(err).toString()]).toEqual([0, ""]);
  });

  it("the real binary stops cleanly on SIGTERM while long-polling", async () => {
    const sqs = new SQSClient({ region: REGION });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "logrelay-cli-idle" }));
    const child = spawn(process.execPath, ["bin/logrelay.js", "deliver", "--queue-url", QueueUrl!], {
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const err: Buffer[] = [];
    child.stderr.on("data", (d: Buffer) => {
      err.push(d);
    });
    await new Promise((r) => setTimeout(r, 2500));
    const started = Date.now();
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));

    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(Buffer.concat(err).toString()).toContain("SIGTERM received");
  });
});
