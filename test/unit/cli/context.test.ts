import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { Command } from "commander";
import { awsRegion, numberOption, parseTime, structured } from "../../../cli/context";
import type { CliIo } from "../../../cli/io";
import { buildProgram } from "../../../cli/logrelay";
import { parseAssignments } from "../../../cli/tenants";
import { runCaptured } from "../../harness/cli";

const io = (env: NodeJS.ProcessEnv) => ({ env }) as CliIo;

describe("one CLI convention: output option, region, settings errors", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it.each([
    ["deliver", "--bucket", "b", "--key", "k"],
    ["tenants", "list"],
    ["dlq", "inspect", "--dlq-url", "https://sqs.example/q"],
    ["firehose", "redrive", "--bucket", "b", "--stream", "s"],
  ])("%s refuses --output xml with the choices, exit 2", async (...argv) => {
    const { code, err } = await runCaptured([...argv, "--output", "xml"], { AWS_REGION: "us-east-1" });

    expect(code).toBe(2);
    expect(err).toMatch(
      /option '-o, --output <format>' argument 'xml' is invalid\. Allowed choices are table, json, yaml\./,
    );
  });

  it("takes AWS_REGION first", async () => {
    expect(await awsRegion(io({ AWS_REGION: "eu-west-1" }))).toBe("eu-west-1");
  });

  it("else the region of the AWS profile, as the SDK's provider chain finds it", async () => {
    const config = join(mkdtempSync(join(tmpdir(), "aws-")), "config");
    writeFileSync(config, "[profile ops]\nregion = ap-southeast-2\n");
    delete process.env.AWS_REGION;
    process.env.AWS_CONFIG_FILE = config;

    expect(await awsRegion(io({ AWS_PROFILE: "ops" }))).toBe("ap-southeast-2");
  });

  it("without any, a usage error that says where to set it", async () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_PROFILE;
    process.env.AWS_CONFIG_FILE = "/nonexistent/aws-config";
    process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/aws-credentials";

    await expect(awsRegion(io({}))).rejects.toMatchObject({
      code: 2,
      message: expect.stringMatching(/^no AWS region: set AWS_REGION, or a region in your AWS profile/),
    });
  });

  it("a missing setting is a usage error naming it, exit 2, no stack trace", async () => {
    const { code, err } = await runCaptured(["api", "serve", "--port", "0"], { AWS_REGION: "us-east-1" });

    expect(code).toBe(2);
    expect(err).toMatch(/^logrelay: invalid tenant API settings: TENANT_CONFIG_TABLE is required/);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it("--version prints the package's version", async () => {
    const { code, out } = await runCaptured(["--version"], {});
    expect(code).toBe(0);
    expect(out).toBe(
      `${JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8")).version}\n`,
    );
  });

  describe("time options: ISO-8601 (without a zone: UTC) or a duration ago", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    it.each([
      ["2026-11-20", Date.parse("2026-11-20T00:00:00Z")],
      ["2026-11-20T08:00:00Z", Date.parse("2026-11-20T08:00:00Z")],
      ["2026-11-20T08:00:00.5+02:00", Date.parse("2026-11-20T06:00:00.5Z")],
      ["2026-11-20 08:00", Date.parse("2026-11-20T08:00:00Z")],
      ["2026-11-20T08:00:00", Date.parse("2026-11-20T08:00:00Z")],
      ["90s", now - 90_000],
      ["15m", now - 900_000],
      ["1h", now - 3_600_000],
      ["7d", now - 7 * 86_400_000],
    ])("%s", (text, expected) => {
      expect(parseTime(text, "--since", now)).toBe(expected);
    });
    it.each(["5", "yesterday", "Nov 20 2026", "11/20/2026", "2026-11-20T08:00:00 PST", "1w", "-1h"])(
      "refuses %s",
      (text) => {
        expect(() => parseTime(text, "--since", now)).toThrow(
          new RegExp(`^--since "${text}" is not a time: use ISO-8601 .* or a duration ago`),
        );
      },
    );
    it("replay --since 5 is a usage error before anything is read", async () => {
      const { code, err } = await runCaptured(
        ["replay", "--tenant", "acme", "--since", "5", "--bucket", "b", "--queue-url", "https://q/x"],
        {},
      );
      expect(code).toBe(2);
      expect(err).toMatch(/^logrelay: --since "5" is not a time/);
    });
  });

  it("--set parses JSON where it can; --set-string keeps a string", () => {
    expect(parseAssignments(["enabled=false", "log_group_name=12"], ["bucket_prefix=007/"])).toEqual({
      enabled: false,
      log_group_name: 12,
      bucket_prefix: "007/",
    });
    expect(parseAssignments([], ["log_group_name=12"])).toEqual({ log_group_name: "12" });
    expect(() => parseAssignments([], ["novalue"])).toThrow("--set-string takes key=value");
  });

  it("JSON and YAML output share snake_case keys; an unknown format is a usage error", async () => {
    const value = { tenantId: "acme", destinations: [{ eventsDelivered: 3, at: new Date(0) }] };
    expect(JSON.parse(structured("json", value))).toEqual({
      tenant_id: "acme",
      destinations: [{ events_delivered: 3, at: "1970-01-01T00:00:00.000Z" }],
    });
    expect(structured("yaml", value)).toBe(
      "tenant_id: acme\ndestinations:\n  - events_delivered: 3\n    at: 1970-01-01T00:00:00.000Z\n",
    );
    const { code, err } = await runCaptured(["dlq", "inspect", "--dlq-url", "https://q/x", "-o", "xml"], {});
    expect(code).toBe(2);
    expect(err).toMatch(/Allowed choices are table, json, yaml/);
  });

  it("every command's --help has an example", () => {
    const program = buildProgram({
      env: {},
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      readStdin: async () => "",
      shutdown: new AbortController().signal,
    });
    const leaves = (c: Command, path: string[]): [string, Command][] =>
      c.commands.length === 0
        ? [[path.join(" "), c]]
        : c.commands.flatMap((x) => leaves(x, [...path, x.name()]));
    const missing = leaves(program, []).filter(([, c]) => {
      let text = "";
      c.configureOutput({
        writeOut: (t) => {
          text += t;
        },
        writeErr: () => {},
      });
      c.outputHelp();
      return !/Example/.test(text);
    });
    expect(missing.map(([name]) => name)).toEqual([]);
  });

  it("numeric options: one parser, with the range (or what it says) in the usage error", () => {
    expect(numberOption("32", "--concurrency", { min: 1, max: 256 })).toBe(32);
    expect(numberOption("0.5", "--gb-per-day", { min: 0.001, integer: false })).toBe(0.5);
    expect(() => numberOption("2.5", "--tenants", { min: 1, max: 10 })).toThrow(
      "--tenants must be 1-10, got 2.5",
    );
    expect(() => numberOption("", "--port", { min: 0, max: 65_535 })).toThrow("--port must be 0-65535, got ");
    expect(() => numberOption("0", "--max", { min: 1, says: "a positive whole number" })).toThrow(
      "--max must be a positive whole number, got 0",
    );
  });
});
