import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  CENTRAL_ACCOUNT,
  clientsFor,
  createAuditTable,
  createConfigTable,
  createLedgerTable,
  createRegistryTable,
  distributorEnv,
  queueDepth,
  REGION,
  readLogGroup,
} from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { ndjsonGz, s3Event, snsEnvelope, vectorEvent } from "../harness/factories";
import { useMoto } from "../harness/moto-suite";

const TABLE = "ops-configs";
const LEDGER = "ops-ledger";
const REGISTRY = "ops-registry";
const AUDIT = "ops-audit";
const BUCKET = "ops-staging";
const CUSTOMER = "555555555555";
const CENTRAL_ROLE = `arn:aws:iam::${CENTRAL_ACCOUNT}:role/logrelay/logrelay-local-central-log-distribution`;

/** An operator's day against the emulator: onboard, configure, validate, deliver, redrive, replay. */
describe("operator CLI end to end", () => {
  useMoto();
  const env = () =>
    distributorEnv(
      { config: TABLE, registry: REGISTRY, ledger: LEDGER },
      { CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: CENTRAL_ROLE, AUDIT_TABLE: AUDIT },
    );
  const cli = (...argv: string[]) => runCaptured(argv, env());
  const out = mkdtempSync(join(tmpdir(), "onboard-"));
  let queueUrl: string;
  let dlqUrl: string;

  beforeAll(async () => {
    await createConfigTable(TABLE);
    await createRegistryTable(REGISTRY);
    await createAuditTable(AUDIT);
    await createLedgerTable(LEDGER);
    const central = await clientsFor(CENTRAL_ACCOUNT);
    await central.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const sqs = new SQSClient({ region: REGION });
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "ops-dlq" }))).QueueUrl!;
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "ops-delivery" }))).QueueUrl!;
  });

  it("onboard issues a per-tenant ExternalId and writes the template, stack inputs and configs", async () => {
    const first = await cli(
      "onboard",
      "initech",
      "--account",
      CUSTOMER,
      "--bucket",
      "initech-archive",
      "--out",
      out,
    );
    const second = await cli("onboard", "initech", "--account", CUSTOMER, "--out", join(out, "again"));

    expect(first.code).toBe(0);
    const externalId = /ExternalId (\S+)/.exec(first.out)![1]!;
    expect(externalId).toMatch(/^initech-[0-9a-f]{32}$/);
    expect(/ExternalId (\S+)/.exec(second.out)![1]).not.toBe(externalId);
    const template = JSON.parse(readFileSync(join(out, "initech-logrelay-role.template.json"), "utf8"));
    expect(
      template.Resources.LogDistributionRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition
        .StringEquals,
    ).toEqual({
      "sts:ExternalId": externalId,
      "aws:RequestTag/tenant_id": "initech",
    });
    expect(JSON.parse(readFileSync(join(out, "initech-customer-stack.json"), "utf8"))).toMatchObject({
      account_id: CUSTOMER,
      external_id: externalId,
    });
    expect(first.out).toContain("logrelay tenants put initech --file");
    // Onboarding registers the tenant for its account: the platform's record, not the config's.
    expect(first.out).toContain(`Registered: tenant initech may deliver to ${CUSTOMER}`);
    const registry = await cli("tenants", "registry", "list", "-o", "json");
    // A list is a list, even of one.
    expect(JSON.parse(registry.out)).toEqual([
      expect.objectContaining({ tenant_id: "initech", accounts: [CUSTOMER] }),
    ]);
    // And the audit trail says who registered it, each time (the caller's identity, in direct
    // mode): the second run found the registration the first one made.
    const history = JSON.parse((await cli("tenants", "history", "initech", "-o", "json")).out);
    const entry = (before: object | undefined) =>
      expect.objectContaining({
        action: "registry.put",
        actor: expect.stringMatching(/^arn:aws:(sts|iam)::/),
        after: expect.objectContaining({ accounts: [CUSTOMER] }),
        ...(before && { before }),
      });
    expect(history).toEqual([entry(expect.objectContaining({ accounts: [CUSTOMER] })), entry(undefined)]);
    expect(history[1].before).toBeUndefined();
  });

  it("puts the configs, lists and gets them, and refuses a bad one with the field", async () => {
    expect(
      (await cli("tenants", "put", "initech", "--file", join(out, "initech-cloudwatch.json"))).code,
    ).toBe(0);
    expect((await cli("tenants", "put", "initech", "--file", join(out, "initech-s3.json"))).code).toBe(0);

    const list = await cli("tenants", "list");
    expect(list.out).toMatch(/initech\s+cloudwatch\s+true\s+\/logrelay\/initech\/initech/);
    expect(list.out).toMatch(/initech\s+s3\s+true\s+s3:\/\/initech-archive\/ROSA\/cluster-logs\//);
    const got = JSON.parse((await cli("tenants", "get", "initech", "s3", "--output", "json")).out);
    // One item: one object, not a list of one.
    expect(got).toMatchObject({ bucket_name: "initech-archive", version: 1 });

    const bad = await cli(
      "tenants",
      "patch",
      "initech",
      "cloudwatch",
      "--set",
      "target_region=moon-1",
      "--version",
      "1",
    );
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/400 ValidationError: .*\n {2}target_region: must be a known AWS region/);
  });

  it("validate fails with a readable reason while the bucket is missing, then passes", async () => {
    const failing = await cli("tenants", "validate", "initech", "s3");
    expect(failing.code).toBe(1);
    expect(failing.out).toMatch(/FAIL bucket-writable: NoSuchBucket/);
    expect(failing.out).toMatch(/fix: The bucket initech-archive must exist in account 555555555555/);

    await (await clientsFor(CUSTOMER)).s3.send(new CreateBucketCommand({ Bucket: "initech-archive" }));
    const passing = await cli("tenants", "validate", "initech", "s3");
    expect(passing.code).toBe(0);
    expect(passing.out).toMatch(/ok {3}assume-customer-role/);
  });

  it("delivers a sample object, redrives a DLQ message and replays a tenant's objects", async () => {
    const central = await clientsFor(CENTRAL_ACCOUNT);
    const key = "initech/cluster-3/payment-service/pay-1/1763632800-a.log.gz";
    await central.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: ndjsonGz([vectorEvent("tps report filed", new Date())]),
      }),
    );

    const delivered = await cli("deliver", "--bucket", BUCKET, "--key", key);
    expect(delivered.code).toBe(0);
    const group = await readLogGroup((await clientsFor(CUSTOMER)).logs, "/logrelay/initech/initech");
    expect(
      Object.values(group!)
        .flat()
        .map((e) => e.message),
    ).toEqual(["tps report filed"]);

    const sqs = new SQSClient({ region: REGION });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify(snsEnvelope(s3Event(BUCKET, key))),
      }),
    );
    const inspect = await cli("dlq", "inspect", "--dlq-url", dlqUrl);
    expect(inspect.out).toContain(key);
    const redrive = await cli("dlq", "redrive", "--dlq-url", dlqUrl, "--queue-url", queueUrl);
    expect(redrive.out).toContain("redrove 1 message(s)");
    expect([await queueDepth(sqs, dlqUrl), await queueDepth(sqs, queueUrl)]).toEqual([0, 1]);

    const replay = await cli(
      "replay",
      "--tenant",
      "initech",
      "--since",
      new Date(Date.now() - 3600_000).toISOString(),
      "--bucket",
      BUCKET,
      "--queue-url",
      queueUrl,
    );
    expect(replay.out).toContain(`replayed ${key}`);
    expect(await queueDepth(sqs, queueUrl)).toBe(2);

    // Both the redriven and the replayed notification settle; the ledger keeps the events single.
    const drained = await cli("deliver", "--queue-url", queueUrl, "--until-empty");
    expect(drained.code).toBe(0);
    const after = await readLogGroup((await clientsFor(CUSTOMER)).logs, "/logrelay/initech/initech");
    expect(Object.values(after!).flat()).toHaveLength(1);
  });

  it("every command has --help, and a missing connection is a clear error", async () => {
    for (const args of [
      ["tenants", "list"],
      ["onboard"],
      ["dlq", "redrive"],
      ["replay"],
      ["api", "serve"],
      ["deliver"],
    ]) {
      const help = await cli(...args, "--help");
      expect([args.join(" "), help.code]).toEqual([args.join(" "), 0]);
      expect(help.out).toMatch(/Usage: logrelay/);
    }
    const none = await runCaptured(["tenants", "list"], { AWS_REGION: REGION });
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no API to talk to: pass --api-url URL/);
  });
});
