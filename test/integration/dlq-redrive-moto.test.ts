import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { CENTRAL_ACCOUNT, queueDepth, REGION } from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { s3Event, snsEnvelope } from "../harness/factories";
import { useMoto } from "../harness/moto-suite";

/** `logrelay dlq redrive` against the emulator (which has no message move task: the batched path). */
describe("dlq redrive", () => {
  const moto = useMoto();
  const sqs = () => new SQSClient({ region: REGION });
  const cli = (...argv: string[]) => runCaptured(argv, { ...process.env, AWS_REGION: REGION });
  let n = 0;

  async function queues() {
    n++;
    const dlq = (await sqs().send(new CreateQueueCommand({ QueueName: `redrive-dlq-${n}` }))).QueueUrl!;
    const main = (await sqs().send(new CreateQueueCommand({ QueueName: `redrive-main-${n}` }))).QueueUrl!;
    return { dlq, main };
  }
  async function park(dlq: string, tenant: string, i: number) {
    await sqs().send(
      new SendMessageCommand({
        QueueUrl: dlq,
        MessageBody: JSON.stringify(snsEnvelope(s3Event("staging", `${tenant}/c1/app/pod/${i}.log.gz`))),
        MessageAttributes: { origin: { DataType: "String", StringValue: `${tenant}-${i}` } },
      }),
    );
  }

  it("checks the target queue before receiving: a wrong --queue-url moves nothing and hides nothing", async () => {
    const { dlq, main } = await queues();
    for (let i = 0; i < 3; i++) await park(dlq, "acme", i);

    const wrong = await cli(
      "dlq",
      "redrive",
      "--dlq-url",
      dlq,
      "--queue-url",
      `${moto()}/${CENTRAL_ACCOUNT}/nope`,
    );

    // A queue that does not exist is a failure of the run (1), as for every command; a malformed URL is usage (2).
    expect(wrong.code).toBe(1);
    expect(wrong.err.trim()).toMatch(/^logrelay: --queue-url .*\/nope: no such queue .*nothing was moved$/);
    // Nothing was received, so a correct run right away moves all of them.
    const right = await cli("dlq", "redrive", "--dlq-url", dlq, "--queue-url", main);
    expect(right.out).toMatch(/redrove 3 message\(s\) .*in batches/);
    expect([await queueDepth(sqs(), dlq), await queueDepth(sqs(), main)]).toEqual([0, 3]);
  });

  it("--tenant moves one tenant's messages with their attributes, leaves the others visible; --dry-run moves nothing", async () => {
    const { dlq, main } = await queues();
    for (let i = 0; i < 3; i++) await park(dlq, "acme", i);
    for (let i = 0; i < 2; i++) await park(dlq, "globex", i);

    const dry = await cli(
      "dlq",
      "redrive",
      "--dlq-url",
      dlq,
      "--queue-url",
      main,
      "--tenant",
      "acme",
      "--dry-run",
      "-o",
      "json",
    );
    expect(JSON.parse(dry.out)).toMatchObject({ would_move: 3, moved: 0, dry_run: true });
    expect([await queueDepth(sqs(), dlq), await queueDepth(sqs(), main)]).toEqual([5, 0]);

    const run = await cli("dlq", "redrive", "--dlq-url", dlq, "--queue-url", main, "--tenant", "acme");

    expect(run.out).toMatch(/redrove 3 message\(s\).*2 of other tenants left in the DLQ/);
    const moved = await sqs().send(
      new ReceiveMessageCommand({ QueueUrl: main, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    expect((moved.Messages ?? []).map((m) => m.MessageAttributes?.origin?.StringValue).sort()).toEqual([
      "acme-0",
      "acme-1",
      "acme-2",
    ]);
    // The other tenant's messages are visible again at once (not hidden for a visibility timeout).
    const left = await sqs().send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10 }));
    expect(left.Messages ?? []).toHaveLength(2);
  });
});
