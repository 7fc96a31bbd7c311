import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { readMessage } from "../functions/distributor/intake/notification";
import { hasErrorName } from "../functions/shared/errors";
import { CliError } from "./io";

export interface RedriveOptions {
  readonly dlqUrl: string;
  readonly queueUrl: string;
  /** Only messages for this tenant; the others stay in the DLQ. */
  readonly tenant?: string;
  /** At most this many messages. */
  readonly max?: number;
  /** Say what would move, move nothing. */
  readonly dryRun?: boolean;
  readonly progress?: (line: string) => void;
  /** Between polls of a move task. @default 1000 */
  readonly pollMs?: number;
}

export interface RedriveResult {
  readonly method: "move-task" | "batches";
  readonly moved: number;
  /** Dry run: what would move. */
  readonly wouldMove: number;
  /** Left in the DLQ: other tenants' messages. */
  readonly leftInDlq: number;
}

/** A queue's ARN, or one line naming the option that points nowhere. */
async function queueArn(sqs: Pick<SQSClient, "send">, url: string, option: string): Promise<string> {
  try {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    const arn = out.Attributes?.QueueArn;
    if (!arn) throw new CliError(`${option} ${url}: the queue has no ARN`);
    return arn;
  } catch (error) {
    if (hasErrorName(error, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"))
      throw new CliError(`${option} ${url}: no such queue (check the URL and AWS_REGION); nothing was moved`);
    throw error;
  }
}

/**
 * Moves DLQ messages back to the delivery queue. Both queues are checked before anything is
 * received. A plain redrive (no tenant, no limit, not a dry run) is SQS's own message move task;
 * where SQS does not offer it (an emulator), and for filtered or limited runs, messages move in
 * batches that keep their attributes: sent first, then deleted, so a crash duplicates a
 * notification (harmless with the ledger) and never loses one. Messages received but not moved
 * (another tenant, a dry run, a failure) are handed back at once.
 */
export async function redriveDlq(sqs: Pick<SQSClient, "send">, o: RedriveOptions): Promise<RedriveResult> {
  const source = await queueArn(sqs, o.dlqUrl, "--dlq-url");
  const destination = await queueArn(sqs, o.queueUrl, "--queue-url");
  if (o.tenant === undefined && o.max === undefined && !o.dryRun) {
    const moved = await moveTask(sqs, source, destination, o);
    if (moved !== undefined) return { method: "move-task", moved, wouldMove: 0, leftInDlq: 0 };
  }
  return batches(sqs, o);
}

async function moveTask(
  sqs: Pick<SQSClient, "send">,
  source: string,
  destination: string,
  o: RedriveOptions,
): Promise<number | undefined> {
  let handle: string | undefined;
  try {
    handle = (
      await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: source, DestinationArn: destination }))
    ).TaskHandle;
  } catch (error) {
    if (hasErrorName(error, "AccessDenied", "AccessDeniedException")) throw error;
    o.progress?.(`message move task not available (${(error as Error).name}); moving in batches`);
    return undefined;
  }
  for (;;) {
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: source, MaxResults: 10 }));
    const task = tasks.Results?.find((t) => t.TaskHandle === handle) ?? tasks.Results?.[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    if (task?.Status === "COMPLETED") return moved;
    if (task?.Status === "FAILED" || task?.Status === "CANCELLED")
      throw new CliError(
        `the message move task ${task.Status.toLowerCase()} after ${moved} message(s): ${task.FailureReason ?? "no reason given"}`,
      );
    o.progress?.(`... ${moved} moved`);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
}

async function batches(sqs: Pick<SQSClient, "send">, o: RedriveOptions): Promise<RedriveResult> {
  const max = o.max ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  let wouldMove = 0;
  const returned: Message[] = [];
  try {
    for (let empty = 0; moved + wouldMove < max && empty < 2; ) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: o.dlqUrl,
          MaxNumberOfMessages: Math.min(10, max - moved - wouldMove),
          VisibilityTimeout: 60,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) {
        empty++;
        continue;
      }
      const chosen = messages.filter(
        (m) => o.tenant === undefined || readMessage(m.Body ?? "").tenant === o.tenant,
      );
      returned.push(...messages.filter((m) => !chosen.includes(m)));
      if (o.dryRun) {
        wouldMove += chosen.length;
        returned.push(...chosen);
        continue;
      }
      if (chosen.length === 0) continue;
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: o.queueUrl,
          Entries: chosen.map((m, i) => ({
            Id: String(i),
            MessageBody: m.Body ?? "",
            ...(m.MessageAttributes &&
              Object.keys(m.MessageAttributes).length > 0 && { MessageAttributes: m.MessageAttributes }),
          })),
        }),
      );
      const ok = new Set((sent.Successful ?? []).map((s) => Number(s.Id)));
      returned.push(...chosen.filter((_, i) => !ok.has(i)));
      const done = chosen.filter((_, i) => ok.has(i));
      if (done.length > 0)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: o.dlqUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      moved += done.length;
      o.progress?.(`... ${moved} moved`);
      if (ok.size < chosen.length)
        throw new CliError(
          `${chosen.length - ok.size} message(s) could not be sent to --queue-url: ${(sent.Failed ?? []).map((f) => f.Code).join(", ")}`,
        );
    }
  } finally {
    // Best effort: what is not handed back becomes visible when its 60 s visibility ends.
    await handBack(
      sqs,
      o.dlqUrl,
      returned.map((m) => m.ReceiptHandle!),
    ).catch(() => undefined);
  }
  return { method: "batches", moved, wouldMove, leftInDlq: returned.length - wouldMove };
}

/** Messages received and not kept: visible again at once, for the next run (or a redrive). */
export async function handBack(
  sqs: Pick<SQSClient, "send">,
  url: string,
  receiptHandles: string[],
): Promise<void> {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: receiptHandles
          .slice(i, i + 10)
          .map((handle, k) => ({ Id: String(k), ReceiptHandle: handle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

/** What a queued message announces: its objects' keys, what was ignored, or why it is malformed. */
export function describeBody(body: string): string {
  const read = readMessage(body);
  if (!read.notification) return `(malformed: ${read.malformed})`;
  const { objects, ignored } = read.notification;
  return objects.map((o) => o.key).join(", ") || `(ignored: ${ignored.join(", ")})`;
}
