import { PassThrough } from "node:stream";
import { runCli } from "../../cli/logrelay";

/** Runs the CLI in-process with captured output. */
export async function runCaptured(argv: string[], env: NodeJS.ProcessEnv, stdin = "") {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (d: Buffer) => {
    out.push(d);
  });
  stderr.on("data", (d: Buffer) => {
    err.push(d);
  });
  const code = await runCli(argv, {
    env,
    stdout,
    stderr,
    readStdin: async () => stdin,
    shutdown: new AbortController().signal,
  });
  return { code, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() };
}
