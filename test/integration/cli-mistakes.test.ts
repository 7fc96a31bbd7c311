import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
