/** What a command touches outside itself, so tests can run the CLI in-process. */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readStdin(): Promise<string>;
  /** Fires on SIGTERM/SIGINT in a real process. */
  readonly shutdown: AbortSignal;
}

/** A failure the user can act on: printed as `logrelay: <message>`, exit code `code`. */
/**
 * Exit codes every command keeps: 0 done, 1 a failure, 2 bad usage or settings, 3 nothing failed
 * but a delivery is parked (its customer's side refuses; it waits and is delivered on recovery).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, parked: 3 } as const;

export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** A fixed-width text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}
