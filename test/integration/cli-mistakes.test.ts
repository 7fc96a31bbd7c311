import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { CliIo } from "../../cli/io";
import { buildProgram } from "../../cli/logrelay";
import { CENTRAL_ACCOUNT, distributorEnv, REGION } from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { useMoto } from "../harness/moto-suite";

/**
 * Ordinary operator mistakes, each against the emulator where AWS is involved: every one ends in
 * one line that names the value and what to do, with a usage (2) or failure (1) exit code, and
 * no stack trace.
 */
describe("the operator CLI answers ordinary mistakes in one line", () => {
  const moto = useMoto();
  let busy: Server;
  let busyPort = 0;
  let closedPort = 0;
  const env = () => ({
    ...distributorEnv({
      config: "mistakes-configs",
      registry: "mistakes-registry",
      ledger: "mistakes-ledger",
    }),
    CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: `arn:aws:iam::${CENTRAL_ACCOUNT}:role/logrelay/central`,
  });

  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as { port: number }).port;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  const aFile = join(tmpdir(), `logrelay-not-a-dir-${process.pid}`);
  writeFileSync(aFile, "x");

  const cases: [string, () => string[], () => RegExp, number][] = [
    [
      "an API that is not there",
      () => ["tenants", "list", "--api-url", `http://127.0.0.1:${closedPort}/prod`],
      () =>
        new RegExp(
          `cannot reach the tenant API at http://127.0.0.1:${closedPort}/prod \\(ECONNREFUSED\\): check --api-url`,
        ),
      1,
    ],
    [
      "an API URL that is not a URL",
      () => ["tenants", "list", "--api-url", "not-a-url"],
      () => /--api-url "not-a-url" is not a URL/,
      2,
    ],
    [
      "replay from a bucket that does not exist",
      () => [
        "replay",
        "--tenant",
        "acme",
        "--since",
        "2026-11-01T00:00:00Z",
        "--bucket",
        "nope",
        "--queue-url",
        `${moto()}/${CENTRAL_ACCOUNT}/q`,
      ],
      () => /NoSuchBucket.*check --bucket/,
      1,
    ],
    [
      "a Firehose redrive from a bucket that does not exist",
      () => ["firehose", "redrive", "--bucket", "nobucket", "--stream", "s"],
      () => /NoSuchBucket.*check --bucket/,
      1,
    ],
    [
      "a DLQ that does not exist",
      () => ["dlq", "inspect", "--dlq-url", `${moto()}/${CENTRAL_ACCOUNT}/nope`],
      () => /queue does not exist: check the queue URL/,
      1,
    ],
    [
      "a port that is not a number",
      () => ["api", "serve", "--port", "abc"],
      () => /--port must be a port number 0-65535.*got abc/,
      2,
    ],
    [
      "a port in use",
      () => ["api", "serve", "--port", String(busyPort)],
      () => new RegExp(`port ${busyPort} is in use: pass another --port`),
      1,
    ],
    [
      "a bucket prefix that climbs out",
      () => [
        "onboard",
        "acme",
        "--account",
        "123456789012",
        "--bucket",
        "acme-archive",
        "--bucket-prefix",
        "../../",
      ],
      () => /--bucket-prefix "\.\.\/\.\.\/" must be/,
      2,
    ],
    [
      "an output folder that cannot be written",
      () => ["onboard", "acme", "--account", "123456789012", "--out", join(aFile, "sub")],
      () => /cannot (mkdir|write|open) .*logrelay-not-a-dir.* \((ENOTDIR|EEXIST)\).*choose a place/,
      1,
    ],
  ];

  it.each(cases)("%s", async (_what, argv, message, code) => {
    const result = await runCaptured(argv(), { ...env(), AWS_REGION: REGION });
    const lines = result.err.split("\n").filter((l) => l.trim() !== "");
    expect(lines).toEqual([expect.stringMatching(/^logrelay: /)]);
    expect(lines[0]).toMatch(message());
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(code);
  });

  it("the real process on this Node prints one line: no stack, no SDK notice about Node versions", async () => {
    const child = spawn(
      process.execPath,
      [
        join(__dirname, "..", "..", "bin", "logrelay.js"),
        "dlq",
        "inspect",
        "--dlq-url",
        `${moto()}/${CENTRAL_ACCOUNT}/nope`,
      ],
      { env: { ...env(), AWS_REGION: REGION }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const err: Buffer[] = [];
    child.stderr.on("data", (d: Buffer) => void err.push(d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    const text = Buffer.concat(err).toString();
    expect(text).not.toMatch(/NodeVersionSupportWarning/);
    expect(text.trim().split("\n")).toEqual([expect.stringMatching(/^logrelay: .*queue does not exist/)]);
    expect(code).toBe(1);
  }, 30_000);

  it("--endpoint-url and --region on any command point its AWS clients (here: the emulator past a dead default)", async () => {
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${closedPort}`;
    try {
      const { AWS_REGION: _r, ...noRegion } = env() as NodeJS.ProcessEnv;
      const result = await runCaptured(
        [
          "dlq",
          "inspect",
          "--dlq-url",
          `${moto()}/${CENTRAL_ACCOUNT}/nope`,
          "--endpoint-url",
          moto(),
          "--region",
          REGION,
        ],
        { ...noRegion, AWS_ENDPOINT_URL: `http://127.0.0.1:${closedPort}` },
      );
      expect(result.err.trim()).toMatch(/^logrelay: .*queue does not exist/);
      const bad = await runCaptured(["dlq", "inspect", "--dlq-url", "x", "--endpoint-url", "nope"], env());
      expect([bad.code, bad.err.trim()]).toEqual([
        2,
        'logrelay: --endpoint-url "nope" is not a URL, e.g. http://127.0.0.1:5000',
      ]);
    } finally {
      process.env.AWS_ENDPOINT_URL = saved;
    }
  });
});

/**
 * The exit codes of every command, found by walking the program: 2 for usage (an unknown option, a
 * missing required option or argument), 1 for a failure (AWS, a file, a port, a missing tool),
 * each in one line. A new command without a failure case here fails the first test.
 */
describe("every command: exit 2 for usage, 1 for a failure, in one line", () => {
  const moto = useMoto();
  const closed = "http://127.0.0.1:9/prod";
  const notADir = join(tmpdir(), `logrelay-exit-codes-${process.pid}`);
  writeFileSync(notADir, "x");
  const configFile = join(tmpdir(), `logrelay-exit-codes-${process.pid}.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      type: "cloudwatch",
      account_id: "111111111111",
      region: "us-east-1",
      log_group_name: "/logrelay/acme",
    }),
  );
  let busy: Server;
  let busyPort = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const q = (name: string) => `${moto()}/${CENTRAL_ACCOUNT}/${name}`;
  const env = () => ({
    ...distributorEnv({ config: "exit-configs", registry: "exit-registry", ledger: "exit-ledger" }),
    CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: `arn:aws:iam::${CENTRAL_ACCOUNT}:role/logrelay/central`,
    AWS_REGION: REGION,
  });

  /** A failing run of each command: what it needs does not exist or cannot be reached. */
  const failures: Record<string, () => { argv: string[]; env?: Record<string, string>; endpoint?: string }> =
    {
      deliver: () => ({ argv: ["deliver", "--bucket", "nobucket", "--key", "acme/c1/app/pod/1-a.log.gz"] }),
      "parked list": () => ({ argv: ["parked", "list"] }),
      "parked retry": () => ({ argv: ["parked", "retry", "--tenant", "acme"] }),
      "parked recover": () => ({ argv: ["parked", "recover"] }),
      status: () => ({ argv: ["status", "--queue-url", q("nope"), "--dlq-url", q("nope-dlq")] }),
      "tenants list": () => ({ argv: ["tenants", "list", "--api-url", closed] }),
      "tenants get": () => ({ argv: ["tenants", "get", "acme", "cloudwatch", "--api-url", closed] }),
      "tenants put": () => ({
        argv: ["tenants", "put", "acme", "--file", configFile, "--api-url", closed],
      }),
      "tenants patch": () => ({
        argv: [
          "tenants",
          "patch",
          "acme",
          "cloudwatch",
          "--version",
          "1",
          "--set",
          "enabled=false",
          "--api-url",
          closed,
        ],
      }),
      "tenants delete": () => ({ argv: ["tenants", "delete", "acme", "cloudwatch", "--api-url", closed] }),
      "tenants validate": () => ({
        argv: ["tenants", "validate", "acme", "cloudwatch", "--api-url", closed],
      }),
      "tenants register": () => ({
        argv: ["tenants", "register", "acme", "--account", "111111111111", "--api-url", closed],
      }),
      "tenants unregister": () => ({ argv: ["tenants", "unregister", "acme", "--api-url", closed] }),
      "tenants registry list": () => ({ argv: ["tenants", "registry", "list", "--api-url", closed] }),
      "tenants history": () => ({ argv: ["tenants", "history", "acme", "--api-url", closed] }),
      onboard: () => ({
        argv: ["onboard", "acme", "--account", "123456789012", "--out", join(notADir, "sub")],
      }),
      "dlq inspect": () => ({ argv: ["dlq", "inspect", "--dlq-url", q("nope-dlq")] }),
      "dlq redrive": () => ({
        argv: ["dlq", "redrive", "--dlq-url", q("nope-dlq"), "--queue-url", q("nope")],
      }),
      replay: () => ({
        argv: [
          "replay",
          "--tenant",
          "acme",
          "--since",
          "1h",
          "--bucket",
          "nobucket",
          "--queue-url",
          q("nope"),
        ],
      }),
      "firehose redrive": () => ({ argv: ["firehose", "redrive", "--bucket", "nobucket", "--stream", "s"] }),
      "api serve": () => ({ argv: ["api", "serve", "--port", String(busyPort)] }),
      cost: () => ({
        argv: ["cost", "--environment", "local", "--gb-per-day", "1", "--shares-from-metrics", "7"],
        endpoint: "http://127.0.0.1:9",
      }),
      ...Object.fromEntries(
        ["plan", "drift", "deploy"].map((action) => [
          `infra ${action}`,
          () => ({ argv: ["infra", action, "--environment", "local"], env: { PATH: "/nonexistent" } }),
        ]),
      ),
    };

  const program = buildProgram({} as CliIo);
  const leaves = (c: Command, path: string[]): [string, Command][] =>
    c.commands.length === 0
      ? [[path.join(" "), c]]
      : c.commands.flatMap((x) => leaves(x, [...path, x.name()]));
  const commands = leaves(program, []);

  it("knows a failing run of every command", () => {
    expect(Object.keys(failures).sort()).toEqual(commands.map(([name]) => name).sort());
  });

  it.each(commands.map(([name]) => [name]))("%s: a failure exits 1, in one line", async (name) => {
    const { argv, env: extra, endpoint } = failures[name]!();
    // AWS clients read the endpoint from the process: --endpoint-url sets it for the run.
    const saved = process.env.AWS_ENDPOINT_URL;
    const result = await runCaptured([...argv, ...(endpoint ? ["--endpoint-url", endpoint] : [])], {
      ...env(),
      ...extra,
    }).finally(() => {
      process.env.AWS_ENDPOINT_URL = saved;
    });
    // One line for the operator; `deliver` also writes its structured log lines (JSON) before it.
    const lines = result.err.split("\n").filter((l) => l.trim() !== "" && !l.startsWith('{"level":'));
    expect([result.code, lines]).toEqual([1, [expect.stringMatching(/^logrelay: /)]]);
  });

  it.each(commands.map(([name, c]) => [name, c]))("%s: usage mistakes exit 2", async (name, command) => {
    const words = name.split(" ");
    const unknown = await runCaptured([...failures[name]!().argv, "--no-such-option"], env());
    expect([unknown.code, unknown.err]).toEqual([
      2,
      expect.stringContaining("error: unknown option '--no-such-option'"),
    ]);
    const required = command.options.filter((o) => o.mandatory);
    const positional = command.registeredArguments.filter((a) => a.required);
    if (required.length === 0 && positional.length === 0) return;
    // Without its positional arguments and required options.
    const bare = await runCaptured(words, env());
    expect([bare.code, bare.err]).toEqual([
      2,
      expect.stringMatching(/error: (missing required argument|required option)/),
    ]);
  });
});
