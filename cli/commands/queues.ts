import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Command } from "commander";
import {
  awsRegion,
  numberOption,
  type OutputFormat,
  outputOption,
  parseTime,
  structured,
  tenantOption,
} from "../context";
import { CliError, type CliIo, table } from "../io";
import { describeBody, handBack, redriveDlq } from "../queues";

const positiveInt = (text: string, option: string) =>
  numberOption(text, option, { min: 1, says: "a positive whole number" });

export function registerQueues(program: Command, io: CliIo): void {
  const dlq = program
    .command("dlq")
    .description("inspect and redrive the delivery queue's dead-letter queue");

  dlq
    .command("inspect")
    .description("show messages in the DLQ without removing them")
    .requiredOption("--dlq-url <url>", "the DLQ (regional stack output delivery_dlq_url)")
    .option("--max <n>", "at most this many messages", "50")
    .addOption(outputOption())
    .addHelpText("after", "\nExample: logrelay dlq inspect --dlq-url URL -o json")
    .action(async (o: { dlqUrl: string; max: string; output: OutputFormat }) => {
      const sqs = new SQSClient({ region: await awsRegion(io) });
      const max = positiveInt(o.max, "--max");
      const seen = new Map<
        string,
        { id: string; receives: string; sent: string; objects: string; body: string; handle: string }
      >();
      for (let empty = 0; seen.size < max && empty < 2; ) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: o.dlqUrl,
            MaxNumberOfMessages: Math.min(10, max - seen.size),
            VisibilityTimeout: 30,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["All"],
          }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) empty++;
        for (const m of messages) {
          seen.set(m.MessageId!, {
            id: m.MessageId!,
            receives: m.Attributes?.ApproximateReceiveCount ?? "?",
            sent: m.Attributes?.SentTimestamp
              ? new Date(Number(m.Attributes.SentTimestamp)).toISOString()
              : "?",
            objects: describeBody(m.Body ?? ""),
            body: m.Body ?? "",
            handle: m.ReceiptHandle!,
          });
        }
      }
      // Hand the messages back at once: inspecting must not delay a redrive.
      const handles = [...seen.values()];
      await handBack(
        sqs,
        o.dlqUrl,
        handles.map((m) => m.handle),
      );
      if (o.output !== "table")
        io.stdout.write(
          structured(
            o.output,
            handles.map(({ handle: _h, ...m }) => m),
          ),
        );
      else
        io.stdout.write(
          table(
            ["MESSAGE", "RECEIVES", "SENT", "OBJECTS"],
            handles.map((m) => [m.id, m.receives, m.sent, m.objects]),
          ),
        );
      io.stderr.write(`${handles.length} message(s) in the DLQ\n`);
    });

  dlq
    .command("redrive")
    .description("move DLQ messages back to the delivery queue (after fixing the cause)")
    .requiredOption("--dlq-url <url>", "the DLQ (regional stack output delivery_dlq_url)")
    .requiredOption("--queue-url <url>", "the delivery queue (regional stack output delivery_queue_url)")
    .option("--tenant <id>", "only this tenant's messages (the others stay in the DLQ)")
    .option("--max <n>", "at most this many messages")
    .option("--dry-run", "say how many would move, move nothing")
    .addOption(outputOption())
    .addHelpText(
      "after",
      "\nBoth queues are checked first. A plain redrive uses SQS's message move task; --tenant, --max and\n" +
        "--dry-run (and an SQS without move tasks) move in batches that keep message attributes.\n" +
        "Example: logrelay dlq redrive --dlq-url URL --queue-url URL --tenant acme --dry-run",
    )
    .action(
      async (o: {
        dlqUrl: string;
        queueUrl: string;
        tenant?: string;
        max?: string;
        dryRun?: boolean;
        output: OutputFormat;
      }) => {
        if (o.tenant !== undefined) tenantOption(o.tenant);
        const max = o.max === undefined ? undefined : positiveInt(o.max, "--max");
        const sqs = new SQSClient({ region: await awsRegion(io) });
        const result = await redriveDlq(sqs, {
          dlqUrl: o.dlqUrl,
          queueUrl: o.queueUrl,
          ...(o.tenant !== undefined && { tenant: o.tenant }),
          ...(max !== undefined && { max }),
          ...(o.dryRun && { dryRun: true }),
          progress: (line) => io.stderr.write(`${line}\n`),
        });
        if (o.output !== "table") {
          io.stdout.write(structured(o.output, { ...result, dryRun: o.dryRun ?? false }));
          return;
        }
        io.stdout.write(
          o.dryRun
            ? `would redrive ${result.wouldMove} message(s)${o.tenant ? ` of tenant ${o.tenant}` : ""}; nothing moved\n`
            : `redrove ${result.moved} message(s) from the DLQ to the delivery queue (${result.method === "move-task" ? "SQS message move task" : "in batches"})` +
                `${result.leftInDlq > 0 ? `; ${result.leftInDlq} of other tenants left in the DLQ` : ""}\n`,
        );
      },
    );

  program
    .command("replay")
    .description(
      "re-announce a tenant's staged objects to the delivery queue (e.g. after the customer fixed their role)",
    )
    .requiredOption("--tenant <id>", "tenant id")
    .requiredOption(
      "--since <time>",
      "objects created at or after this time: ISO-8601 or a duration ago (1h, 7d)",
    )
    .option("--until <time>", "and before this time, same forms (default: now)")
    .requiredOption("--bucket <name>", "the staging bucket (regional stack output staging_bucket)")
    .requiredOption("--queue-url <url>", "the delivery queue")
    .option("--dry-run", "list what would be replayed, send nothing")
    .addHelpText(
      "after",
      "\nExample: logrelay replay --tenant acme --since 6h --bucket STAGING --queue-url URL --dry-run",
    )
    .action(
      async (o: {
        tenant: string;
        since: string;
        until?: string;
        bucket: string;
        queueUrl: string;
        dryRun?: boolean;
      }) => {
        tenantOption(o.tenant);
        const since = parseTime(o.since, "--since");
        const until = o.until === undefined ? Date.now() : parseTime(o.until, "--until");
        if (until <= since) throw new CliError("--until must be after --since", 2);
        const s3 = new S3Client({ region: await awsRegion(io) });
        const sqs = new SQSClient({ region: await awsRegion(io) });
        let token: string | undefined;
        let listed = 0;
        let sent = 0;
        const pending: { key: string; size: number; time: Date; eTag?: string }[] = [];
        const flush = async () => {
          if (pending.length === 0) return;
          const batch = pending.splice(0, 10);
          if (!o.dryRun) {
            const out = await sqs.send(
              new SendMessageBatchCommand({
                QueueUrl: o.queueUrl,
                Entries: batch.map((b, i) => ({
                  Id: String(i),
                  MessageBody: JSON.stringify({
                    Records: [
                      {
                        eventVersion: "2.1",
                        eventSource: "aws:s3",
                        eventName: "ObjectCreated:Put",
                        eventTime: b.time.toISOString(),
                        userIdentity: { principalId: "logrelay-replay" },
                        s3: {
                          bucket: { name: o.bucket },
                          object: { key: encodeURIComponent(b.key).replace(/%2F/g, "/"), size: b.size },
                        },
                      },
                    ],
                  }),
                })),
              }),
            );
            if (out.Failed && out.Failed.length > 0)
              throw new CliError(`queue refused ${out.Failed.length} message(s): ${out.Failed[0]!.Message}`);
          }
          sent += batch.length;
          for (const b of batch) io.stdout.write(`${o.dryRun ? "would replay" : "replayed"} ${b.key}\n`);
        };
        do {
          const page = await s3.send(
            new ListObjectsV2Command({
              Bucket: o.bucket,
              Prefix: `${o.tenant}/`,
              ...(token && { ContinuationToken: token }),
            }),
          );
          for (const obj of page.Contents ?? []) {
            listed++;
            const t = obj.LastModified?.getTime() ?? 0;
            if (t >= since && t < until)
              pending.push({ key: obj.Key!, size: obj.Size ?? 0, time: obj.LastModified! });
            while (pending.length >= 10) await flush();
          }
          token = page.NextContinuationToken;
          io.stderr.write(`... ${listed} objects listed\n`);
        } while (token);
        while (pending.length > 0) await flush();
        io.stderr.write(
          `${o.dryRun ? "would replay" : "replayed"} ${sent} of ${listed} staged object(s) of ${o.tenant}\n`,
        );
      },
    );
}
