import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { MAX_JSON_DEPTH } from "../../functions/distributor/reading/log-records";
import { bundleNodeProgram } from "../../stacks/constructs/bundle";
import { distributorDeployment } from "../../stacks/in-cluster-distributor";
import { regionalResourceNames } from "../../stacks/naming";
import {
  CENTRAL_ACCOUNT,
  clientsFor,
  distributorEnv,
  distributorTables,
  putConfig,
  putObject,
  readLogGroup,
} from "../harness/aws";
import { useMoto } from "../harness/moto-suite";
import { env } from "../harness/synth";

/**
 * Objects a compromised or broken collector could stage, delivered by the distributor as it is
 * deployed (the bundled program, with the in-cluster Deployment's NODE_OPTIONS), each in its own
 * process whose peak resident set is read from the kernel (VmHWM) when it exits.
 */

const ROOT = join(__dirname, "..", "..");
const BUNDLE = join(ROOT, "build", "hostile-objects", "logrelay.js");
const PEAK_RSS = join(__dirname, "..", "harness", "peak-rss.cjs");
const BUCKET = "logrelay-hostile-staging";
const CONFIG_TABLE = "hostile-configs";
const REGISTRY_TABLE = "hostile-registry";
const LEDGER_TABLE = "hostile-ledger";
const ACCOUNT = "777777777777";
const TENANT = "hostile";
const GROUP = "/logrelay/hostile";
/** The target of the issue: whatever the object, the process stays under this. */
const PEAK_LIMIT_MB = 250;

const e = env({
  clusters: [
    {
      id: "rosa-1",
      region: "us-east-1",
      oidc_issuer_url: "https://oidc.example.com/x",
      distributor: { image: "i" },
    },
  ],
});
const podEnv = distributorDeployment(
  e,
  "logrelay",
  e.clusters[0]!,
  regionalResourceNames(e, "us-east-1"),
  "i",
  1,
).spec.template.spec.containers[0]!.env;
const NODE_OPTIONS = podEnv.find((v) => v.name === "NODE_OPTIONS")!.value;

interface Delivered {
  readonly code: number | null;
  readonly object: {
    status: string;
    destinations: { status: string; reason?: string; events_delivered: number; bad_lines: number }[];
  };
  /** The bad lines the distributor logged (its "bad lines skipped" line on stderr). */
  readonly badSamples: { line: number; reason: string }[];
  readonly peakMb: number;
}

async function deliver(key: string): Promise<Delivered> {
  const peakFile = join(mkdtempSync(join(tmpdir(), "logrelay-peak-")), "kb");
  const child = spawn(
    process.execPath,
    ["--require", PEAK_RSS, BUNDLE, "deliver", "--bucket", BUCKET, "--key", key, "--output", "json"],
    {
      env: {
        ...distributorEnv({ config: CONFIG_TABLE, registry: REGISTRY_TABLE, ledger: LEDGER_TABLE }),
        NODE_OPTIONS,
        PEAK_RSS_FILE: peakFile,
        // Far more than these objects need: refusing one must not take the message's whole budget.
        MESSAGE_BUDGET_SECONDS: "60",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => void out.push(d));
  child.stderr.on("data", (d: Buffer) => void err.push(d));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const results = JSON.parse(Buffer.concat(out).toString());
  const logged = Buffer.concat(err)
    .toString()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { message: string; samples?: Delivered["badSamples"] });
  return {
    code,
    object: results[0].objects[0],
    badSamples: logged.find((l) => l.message === "bad lines skipped")?.samples ?? [],
    peakMb: Number(readFileSync(peakFile, "utf8")) / 1024,
  };
}

const good = (text: string) => `${JSON.stringify({ message: text, timestamp: new Date().toISOString() })}\n`;

async function stage(name: string, body: Buffer): Promise<string> {
  const key = `${TENANT}/rosa-1/payment-service/pod-${name}/1763632800-${name}.log.gz`;
  await putObject((await clientsFor(CENTRAL_ACCOUNT)).s3, BUCKET, key, body);
  return key;
}

async function messagesInGroup(): Promise<string[]> {
  const group = await readLogGroup((await clientsFor(ACCOUNT)).logs, GROUP);
  return Object.values(group ?? {})
    .flat()
    .map((e) => e.message);
}

describe("hostile objects: bounded memory and time, bad lines with reasons, never a crash", () => {
  useMoto();

  beforeAll(async () => {
    bundleNodeProgram(join(ROOT, "cli", "main.ts"), BUNDLE);
    await distributorTables(
      { config: CONFIG_TABLE, registry: REGISTRY_TABLE, ledger: LEDGER_TABLE, staging: BUCKET },
      { [TENANT]: [ACCOUNT] },
    );
    await putConfig(CONFIG_TABLE, {
      tenant_id: TENANT,
      type: "cloudwatch",
      log_distribution_role_arn: `arn:aws:iam::${ACCOUNT}:role/LogDistribution`,
      external_id: "ext-hostile",
      log_group_name: GROUP,
    });
  }, 120_000);

  it("a 10 MB gzip bomb (10 GiB of log lines) is refused by its ratio after the first 16 MiB, not read for hours", async () => {
    const line = good("boom");
    // One member inflating to 64 MiB, repeated: concatenated members are one valid gzip object.
    const member = gzipSync(Buffer.from(line.repeat(Math.floor((64 * 1024 * 1024) / line.length))), {
      level: 9,
    });
    const copies = Math.ceil((10 * 1024 * 1024) / member.length);
    const key = await stage("bomb", Buffer.concat(Array.from({ length: copies }, () => member)));
    expect(copies * member.length).toBeGreaterThanOrEqual(10 * 1024 * 1024);

    const { code, object, peakMb } = await deliver(key);

    const d = object.destinations[0]!;
    expect(d.status).toBe("failed_permanent");
    expect(d.reason).toMatch(
      /^ObjectCapError: object inflates \d+:1 \(\d+ bytes from \d+\), past MAX_COMPRESSION_RATIO 200:1: refused as a gzip bomb after line \d+; the \d+ events before it were delivered$/,
    );
    expect(code).toBe(1);
    // What was delivered is what the prefix held, once: at most 16 MiB and a chunk of lines.
    const boom = (await messagesInGroup()).filter((m) => m === "boom");
    expect(boom.length).toBe(d.events_delivered);
    expect(boom.length * line.length).toBeLessThan(17 * 1024 * 1024);
    expect(peakMb).toBeLessThan(PEAK_LIMIT_MB);
  }, 300_000);

  it("a 300 MB single line is a bad line; the lines around it are delivered", async () => {
    // Compressible (about 30:1) but under the ratio cap: a random letter every 100 bytes.
    const piece = Buffer.alloc(100, "a");
    const parts: Buffer[] = [Buffer.from(good("before the long line"))];
    const random = randomBytes(3_000_000);
    for (let i = 0; i < 3_000_000; i++) {
      const p = Buffer.from(piece);
      p[50] = 0x61 + (random[i]! % 26);
      parts.push(p);
    }
    parts.push(Buffer.from(`\n${good("after the long line")}`));
    const key = await stage("long-line", gzipSync(Buffer.concat(parts), { level: 1 }));

    const { code, object, badSamples, peakMb } = await deliver(key);

    expect(code).toBe(0);
    expect(object.destinations[0]).toMatchObject({ status: "delivered", events_delivered: 2, bad_lines: 1 });
    expect(badSamples).toEqual([{ line: 2, reason: "line longer than 16777216 bytes" }]);
    expect(await messagesInGroup()).toEqual(
      expect.arrayContaining(["before the long line", "after the long line"]),
    );
    expect(peakMb).toBeLessThan(PEAK_LIMIT_MB);
  }, 300_000);

  it("binary garbage and invalid UTF-8: bad lines with reasons, the good lines delivered", async () => {
    const garbage = randomBytes(5 * 1024 * 1024);
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"message":"bytes \xff\xfe in a string"}\n', "latin1"),
      Buffer.from("\xff\xfe not even JSON\n", "latin1"),
    ]);
    const body = Buffer.concat([
      Buffer.from(good("before the garbage")),
      garbage,
      Buffer.from(`\n${good("after the garbage")}`),
      invalidUtf8,
    ]);
    const key = await stage("garbage", gzipSync(body));

    const { code, object, badSamples, peakMb } = await deliver(key);

    expect(code).toBe(0);
    const d = object.destinations[0]!;
    expect(d.status).toBe("delivered");
    expect(d.bad_lines).toBeGreaterThan(1);
    expect(badSamples.length).toBeGreaterThan(0);
    for (const sample of badSamples)
      expect(sample.reason).toMatch(/^(not JSON|record is not a JSON object)$/);
    const messages = await messagesInGroup();
    expect(messages).toEqual(
      expect.arrayContaining(["before the garbage", "after the garbage", "bytes \ufffd\ufffd in a string"]),
    );
    expect(peakMb).toBeLessThan(PEAK_LIMIT_MB);
  }, 300_000);

  it("JSON nested a million deep is one bad line, not a stack overflow that poisons its object", async () => {
    const deep = `{"message":${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}\n`;
    const key = await stage(
      "deep",
      gzipSync(Buffer.from(`${good("before the deep line")}${deep}${good("after the deep line")}`)),
    );

    const { code, object, badSamples, peakMb } = await deliver(key);

    expect(code).toBe(0);
    expect(object.destinations[0]).toMatchObject({ status: "delivered", events_delivered: 2, bad_lines: 1 });
    expect(badSamples).toEqual([{ line: 2, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` }]);
    expect(await messagesInGroup()).toEqual(
      expect.arrayContaining(["before the deep line", "after the deep line"]),
    );
    expect(peakMb).toBeLessThan(PEAK_LIMIT_MB);
  }, 300_000);
});
