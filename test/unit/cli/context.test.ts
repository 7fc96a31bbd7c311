import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awsRegion } from "../../../cli/context";
import type { CliIo } from "../../../cli/io";
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
  ])("%s refuses --output yaml with the choices, exit 2", async (...argv) => {
    const { code, err } = await runCaptured([...argv, "--output", "yaml"], { AWS_REGION: "us-east-1" });

    expect(code).toBe(2);
    expect(err).toMatch(
      /option '-o, --output <format>' argument 'yaml' is invalid\. Allowed choices are table, json\./,
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
});
