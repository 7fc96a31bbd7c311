import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { redriveDlq } from "../../../cli/queues";

describe("dlq redrive with SQS's message move task", () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());
  afterAll(() => sqs.restore());

  it("a plain redrive starts a move task from the DLQ to the queue and waits for it, receiving nothing itself", async () => {
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: "https://q/dlq" })
      .resolves({ Attributes: { QueueArn: "arn:dlq" } });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: "https://q/main" })
      .resolves({ Attributes: { QueueArn: "arn:main" } });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: "task-1" });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [{ TaskHandle: "task-1", Status: "RUNNING", ApproximateNumberOfMessagesMoved: 3 }],
      })
      .resolves({
        Results: [{ TaskHandle: "task-1", Status: "COMPLETED", ApproximateNumberOfMessagesMoved: 7 }],
      });

    const result = await redriveDlq(new SQSClient({ region: "us-east-1" }), {
      dlqUrl: "https://q/dlq",
      queueUrl: "https://q/main",
      pollMs: 1,
    });

    expect(result).toEqual({ method: "move-task", moved: 7, wouldMove: 0, leftInDlq: 0 });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({
      SourceArn: "arn:dlq",
      DestinationArn: "arn:main",
    });
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it("a failed move task is one line with its reason", async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: "arn:q" } });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: "t" });
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          TaskHandle: "t",
          Status: "FAILED",
          ApproximateNumberOfMessagesMoved: 2,
          FailureReason: "AccessDenied on destination",
        },
      ],
    });
    await expect(
      redriveDlq(new SQSClient({ region: "us-east-1" }), {
        dlqUrl: "https://q/a",
        queueUrl: "https://q/b",
        pollMs: 1,
      }),
    ).rejects.toThrow("the message move task failed after 2 message(s): AccessDenied on destination");
  });
});
