import { FirehoseClient } from "@aws-sdk/client-firehose";
import { S3Client } from "@aws-sdk/client-s3";
import type { Command } from "commander";
import { FIREHOSE_ERRORS_PREFIX } from "../../functions/shared/patterns";
import { awsRegion, type OutputFormat, outputOption, structured } from "../context";
import { firehoseSink, redriveErrorOutput, s3ErrorObjects, UNUSABLE_PREFIX } from "../firehose";
import { CliError, type CliIo, table } from "../io";

const ERROR_TYPE = /^[A-Za-z][A-Za-z0-9-]*$/;

export function registerFirehose(program: Command, io: CliIo): void {
  const firehose = program
    .command("firehose")
    .description("the Firehose ingestion option: recover records from its error output");

  firehose
    .command("redrive")
    .description(
      `re-put records from ${FIREHOSE_ERRORS_PREFIX}<error type>/ of the staging bucket into the stream`,
    )
    .requiredOption("--bucket <name>", "the staging bucket (regional stack output staging_bucket)")
    .requiredOption("--stream <name>", "the delivery stream (regional stack output firehose_stream_name)")
    .option(
      "--error-type <type>",
      "only this error type, e.g. activePartitionExceeded (records that failed partitioning or conversion would fail again)",
    )
    .option(
      "--delete",
      `finish each error object once its good records are back in the stream: unusable lines are kept in ${UNUSABLE_PREFIX}, the object is removed`,
    )
    .option("--dry-run", "read and check the error objects, put nothing")
    .addOption(outputOption())
    .addHelpText(
      "after",
      "\nWithout --delete the error objects stay, so a second run re-puts their records again. With --delete an\n" +
        `object is finished once: good records back in the stream, unusable lines (each with its reason) in one\n` +
        `object under ${UNUSABLE_PREFIX}, the source removed. Objects whose records Firehose refused are kept.\n` +
        "Exit codes: 0 every object finished (or, without --delete, every record went back), 1 something could\n" +
        "not (see the report), 2 bad usage.\n" +
        "Example: logrelay firehose redrive --bucket STAGING --stream STREAM --error-type activePartitionExceeded --delete",
    )
    .action(
      async (o: {
        bucket: string;
        stream: string;
        errorType?: string;
        delete?: boolean;
        dryRun?: boolean;
        output: OutputFormat;
      }) => {
        if (o.errorType !== undefined && !ERROR_TYPE.test(o.errorType)) {
          throw new CliError(
            `--error-type must be a Firehose error type such as activePartitionExceeded, got ${o.errorType}`,
            2,
          );
        }
        const region = await awsRegion(io);
        const prefix = `${FIREHOSE_ERRORS_PREFIX}${o.errorType ? `${o.errorType}/` : ""}`;
        const reports = await redriveErrorOutput(
          s3ErrorObjects(new S3Client({ region }), o.bucket),
          firehoseSink(new FirehoseClient({ region }), o.stream),
          { prefix, delete: o.delete ?? false, dryRun: o.dryRun ?? false },
          (r) => {
            if (o.output === "table") {
              io.stderr.write(
                `${r.key}: ${r.redriven}/${r.records} record(s)${r.error ? `, ${r.error}` : ""}\n`,
              );
            }
          },
        );
        if (o.output !== "table") io.stdout.write(structured(o.output, reports));
        else if (reports.length === 0) io.stdout.write(`no error objects under s3://${o.bucket}/${prefix}\n`);
        else {
          io.stdout.write(
            table(
              ["OBJECT", "RECORDS", "REDRIVEN", "FAILED", "BAD LINES", "DELETED", "PROBLEM"],
              reports.map((r) => [
                r.key,
                r.records,
                r.redriven,
                r.failed,
                r.badLines,
                r.deleted ? "yes" : "no",
                r.error ??
                  [
                    ...r.badSamples.map((b) => `line ${b.line}: ${b.reason}`),
                    ...(r.unusable ? [`unusable lines kept in ${r.unusable}`] : []),
                  ].join("; "),
              ]),
            ),
          );
        }
        // Finished objects (deleted, unusable lines kept) are done; others need another look.
        const incomplete = reports.filter((r) => !r.deleted && (r.error || r.failed > 0 || r.badLines > 0));
        if (incomplete.length > 0) {
          throw new CliError(
            `${incomplete.length} of ${reports.length} error object(s) were not fully redriven; they are kept`,
          );
        }
      },
    );
}
