import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CliError } from "./io";

/**
 * Message bodies from what a user may pipe in: a Lambda SQS event, `aws sqs receive-message`
 * output, one SQS message, or a bare SNS envelope / S3 event.
 */
export function bodiesFromInput(text: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CliError(`stdin is not JSON: ${(e as Error).message}`, 2);
  }
  const d = doc as {
    Records?: { eventSource?: string; body?: unknown }[];
    Messages?: { Body?: unknown }[];
    Body?: unknown;
  };
  if (
    Array.isArray(d.Records) &&
    d.Records.length > 0 &&
    d.Records.every((r) => r?.eventSource === "aws:sqs")
  ) {
    return d.Records.map((r) => String(r.body ?? ""));
  }
  if (Array.isArray(d.Messages)) return d.Messages.map((m) => String(m.Body ?? ""));
  if (typeof d.Body === "string") return [d.Body];
  return [text];
}

/** Touches `path` (creating its folder), for an exec liveness probe that checks its age. */
export function heartbeat(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  return () => writeFileSync(path, new Date().toISOString());
}
