import { Command, CommanderError } from "commander";
import { registerApiServe } from "./commands/api-serve";
import { registerCost } from "./commands/cost";
import { registerDeliver } from "./commands/deliver";
import { registerFirehose } from "./commands/firehose";
import { registerInfra } from "./commands/infra";
import { registerOnboard } from "./commands/onboard";
import { registerParked } from "./commands/parked";
import { registerQueues } from "./commands/queues";
import { registerStatus } from "./commands/status";
import { registerTenants } from "./commands/tenants";
import { quietSdkNodeNotice } from "./context";
import { explain } from "./errors";
import { CliError, type CliIo, readAll } from "./io";

/** The package's version (package.json), printed by --version. */
const VERSION: string = (require("../package.json") as { version: string }).version;

/** Builds the `logrelay` operator CLI. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("logrelay")
    .description(
      "Operate logrelay: deliver staged logs, manage tenants, inspect queues, recover Firehose errors.",
    )
    .version(VERSION, "-V, --version", "print logrelay's version")
    // Program options only before the command: `tenants patch ... --version 3` stays the patch's own option.
    .enablePositionalOptions();
  registerDeliver(program, io);
  registerParked(program, io);
  registerStatus(program, io);
  registerTenants(program, io);
  registerOnboard(program, io);
  registerQueues(program, io);
  registerFirehose(program, io);
  registerApiServe(program, io);
  registerCost(program, io);
  registerInfra(program, io);
  addAwsOptions(program, io);
  // Every command, however it was added: errors and help go to io, and end in an exit code, not process.exit.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const command of all(program))
    command
      .showHelpAfterError()
      .exitOverride()
      .configureOutput({
        writeOut: (s) => io.stdout.write(s),
        writeErr: (s) => io.stderr.write(s),
      });
  return program;
}

/**
 * `--region`, `--profile` and `--endpoint-url` on every command, resolved by the SDK's own
 * provider chain: they set AWS_REGION, AWS_PROFILE and AWS_ENDPOINT_URL for this run (for the
 * command's settings and for every AWS client it builds).
 */
function addAwsOptions(program: Command, io: CliIo): void {
  const leaves = (c: Command): Command[] => (c.commands.length === 0 ? [c] : c.commands.flatMap(leaves));
  for (const command of leaves(program).filter((c) => c !== program)) {
    command
      .option("--region <region>", "AWS region (default: AWS_REGION, else your profile's)")
      .option("--profile <name>", "AWS profile from ~/.aws/config (default: AWS_PROFILE)")
      .option("--endpoint-url <url>", "AWS endpoint, e.g. an emulator (default: AWS_ENDPOINT_URL)");
  }
  program.hook("preAction", (_program, action) => {
    const o = action.opts<{ region?: string; profile?: string; endpointUrl?: string }>();
    const set = (name: string, value: string | undefined) => {
      if (value === undefined) return;
      io.env[name] = value;
      process.env[name] = value;
    };
    if (o.endpointUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(o.endpointUrl))
      throw new CliError(
        `--endpoint-url ${JSON.stringify(o.endpointUrl)} is not a URL, e.g. http://127.0.0.1:5000`,
        2,
      );
    set("AWS_REGION", o.region);
    set("AWS_PROFILE", o.profile);
    set("AWS_ENDPOINT_URL", o.endpointUrl);
  });
}

/** Runs the CLI and returns its exit code; never calls process.exit itself. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliError) {
      io.stderr.write(`logrelay: ${error.message}\n`);
      return error.code;
    }
    io.stderr.write(`logrelay: ${explain(error)}\n`);
    if (io.env.LOGRELAY_DEBUG) io.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/** Entry point of the real process: signals, stdin, exit code. */
export function main(): void {
  quietSdkNodeNotice();
  // A reader that stops early (`logrelay tenants list | head`) closes the pipe: that is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const controller = new AbortController();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      process.stderr.write(`logrelay: ${signal} received, finishing messages in hand\n`);
      controller.abort();
    });
  }
  runCli(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: () => (process.stdin.isTTY ? Promise.resolve("") : readAll(process.stdin)),
    shutdown: controller.signal,
  }).then((code) => {
    process.exitCode = code;
  });
}
