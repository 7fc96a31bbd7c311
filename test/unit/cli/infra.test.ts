import { readFileSync } from "node:fs";
import { join } from "node:path";
import { selectStacks } from "../../../cli/commands/infra";
import {
  defaultParallelism,
  type FleetStack,
  PLAN_FILE,
  type RunTerraform,
  runFleet,
  STACK_MEMORY_BYTES,
  summarizePlan,
  terraformError,
} from "../../../cli/infra";
import { CliError } from "../../../cli/io";
import { environmentStacks } from "../../../stacks/app";
import { parseEnvironment } from "../../../stacks/config";

const GiB = 1024 ** 3;

/** A plan as `terraform show -json` prints it, with these resource changes and drift. */
const planJson = (
  changes: { address: string; actions: string[]; before?: unknown; after?: unknown }[] = [],
  drift: { address: string; actions: string[]; before?: unknown; after?: unknown }[] = [],
) =>
  JSON.stringify({
    format_version: "1.2",
    resource_changes: changes.map(({ address, ...change }) => ({ address, change })),
    resource_drift: drift.map(({ address, ...change }) => ({ address, change })),
  });

/**
 * Terraform in memory: each stack's plan is given, a step can be made to fail. A stack is in
 * flight from its init until runFleet reports it (`finished`, passed as progress).
 */
function fakeTerraform(plans: Record<string, string>, fail: Record<string, string> = {}) {
  const calls: { stack: string; command: string }[] = [];
  const applied: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run: RunTerraform = async (dir, args) => {
    const stack = dir.split("/").pop()!;
    const command = args[0]!;
    calls.push({ stack, command });
    if (command === "init") maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((r) => setTimeout(r, 5));
    if (fail[stack] === command)
      return { code: 1, output: `\n│ Error: creating thing in ${stack}\n│ \n│ AccessDenied: nope\n╵\n` };
    if (command === "show") return { code: 0, output: plans[stack] ?? planJson() };
    if (command === "apply") {
      expect(args).toContain(PLAN_FILE);
      applied.push(stack);
    }
    return { code: 0, output: "" };
  };
  const finished = (line: string) => {
    if (!line.includes(": skipped")) inFlight--;
  };
  return { run, calls, applied, finished, maxInFlight: () => maxInFlight };
}

const env = parseEnvironment(
  {
    name: "prod",
    account_id: "123456789012",
    regions: ["us-east-1", "eu-west-1"],
    backend: { type: "s3", bucket: "state-bucket", region: "us-east-1" },
    customers: ["acme", "globex", "initech"].map((t, i) => ({
      tenant_id: t,
      account_id: `${i + 1}`.repeat(12),
      external_id: `${t}-1234567890`,
    })),
    clusters: [
      { id: "c1", region: "us-east-1", oidc_issuer_url: "https://oidc.example.com/c1" },
      { id: "c2", region: "eu-west-1", oidc_issuer_url: "https://oidc.example.com/c2" },
    ],
  },
  "test",
);
const fleet: FleetStack[] = environmentStacks(env).map((s) => ({
  name: s.name,
  dir: `/out/stacks/${s.name}`,
  dependsOn: s.dependsOn,
}));
const creates = planJson([{ address: "aws_iam_role.r", actions: ["create"], before: null, after: {} }]);
const allCreate = Object.fromEntries(fleet.map((s) => [s.name, creates]));

describe("infra: stacks in flight", () => {
  it.each([
    [2, 24 * GiB, 2],
    [8, 24 * GiB, 8],
    [8, 2 * GiB, 2],
    [2, 0.5 * GiB, 1],
  ])("%i cores and %d bytes free give %i at a time", (cores, free, expected) => {
    expect(defaultParallelism(cores, free)).toBe(expected);
  });

  it("counts 0.8 GB per stack (measured: 0.76 GB for terraform and the AWS provider)", () => {
    expect(STACK_MEMORY_BYTES / 1e9).toBeCloseTo(0.859, 2);
  });
});

describe("infra: reading a plan", () => {
  it("counts a replacement as one add and one destroy", () => {
    const plan = planJson([
      { address: "a.new", actions: ["create"] },
      { address: "a.changed", actions: ["update"], before: { x: 1 }, after: { x: 2 } },
      { address: "a.replaced", actions: ["delete", "create"] },
      { address: "a.gone", actions: ["delete"] },
      { address: "a.same", actions: ["no-op"] },
      { address: "data.a.read", actions: ["read"] },
    ]);
    expect(summarizePlan(plan)).toEqual({
      add: 2,
      change: 1,
      destroy: 2,
      drift: [],
      changes: [
        { address: "a.new", actions: ["create"] },
        { address: "a.changed", actions: ["update"] },
        { address: "a.replaced", actions: ["delete", "create"] },
        { address: "a.gone", actions: ["delete"] },
      ],
    });
  });

  it("in terraform's real plan after a change with the SDK, names the changed attribute and not the provider's read-back", () => {
    // terraform 1.11 + hashicorp/aws 5.100.0 against moto: the DLQ's VisibilityTimeout set to 77
    // outside Terraform; the refresh also reports tags null -> {} and inline_policy read back.
    const text = readFileSync(
      join(__dirname, "../../fixtures/terraform/plan-dlq-changed-outside.json"),
      "utf8",
    );
    expect(JSON.parse(text).resource_drift.length).toBe(3);

    expect(summarizePlan(text)).toEqual({
      add: 0,
      change: 1,
      destroy: 0,
      drift: [
        {
          address: "aws_sqs_queue.notifications_queue_dlq_57E896DD",
          actions: ["update"],
          attributes: ["visibility_timeout_seconds"],
        },
      ],
      changes: [{ address: "aws_sqs_queue.notifications_queue_dlq_57E896DD", actions: ["update"] }],
    });
  });

  it("reports a resource deleted outside Terraform", () => {
    const plan = planJson(
      [{ address: "aws_sqs_queue.q", actions: ["create"] }],
      [{ address: "aws_sqs_queue.q", actions: ["delete"], before: { name: "q" }, after: null }],
    );
    expect(summarizePlan(plan).drift).toEqual([
      { address: "aws_sqs_queue.q", actions: ["delete"], attributes: [] },
    ]);
  });

  it("refuses what is not a plan, naming it", () => {
    expect(() => summarizePlan('{"resource_changes": 3}')).toThrow(/format_version/);
  });

  it("takes terraform's error lines, without the box drawing", () => {
    const output =
      "Initializing...\n╷\n│ Error: creating IAM Role (x): operation error IAM: CreateRole\n│ \n│   with aws_iam_role.r,\n╵\n";
    expect(terraformError(output)).toBe(
      "Error: creating IAM Role (x): operation error IAM: CreateRole with aws_iam_role.r,",
    );
    expect(terraformError("one\ntwo\nthree\nfour\n")).toBe("two three four");
  });
});

describe("infra: running many stacks", () => {
  it("deploys in the declared order: global, then regions and customers, then each cluster after its region", async () => {
    const tf = fakeTerraform(allCreate);
    const reports = await runFleet("deploy", fleet, {
      parallelism: 3,
      terraform: tf.run,
      progress: tf.finished,
    });

    expect(reports.map((r) => [r.stack, r.result, r.add])).toEqual(fleet.map((s) => [s.name, "applied", 1]));
    const at = (name: string) => tf.applied.indexOf(name);
    expect(at("logrelay-prod-global")).toBe(0);
    expect(at("logrelay-prod-cluster-c1")).toBeGreaterThan(at("logrelay-prod-us-east-1"));
    expect(at("logrelay-prod-cluster-c2")).toBeGreaterThan(at("logrelay-prod-eu-west-1"));
    // Every stack: init, plan, show, then apply of the saved plan.
    expect(tf.calls.filter((c) => c.stack === "logrelay-prod-global").map((c) => c.command)).toEqual([
      "init",
      "plan",
      "show",
      "apply",
    ]);
  });

  it.each([1, 2, 4])("keeps at most %i stacks in flight", async (parallelism) => {
    const tf = fakeTerraform({});
    await runFleet("plan", fleet, { parallelism, terraform: tf.run, progress: tf.finished });
    expect(tf.maxInFlight()).toBe(parallelism);
  });

  it("skips the stacks that depend on one that failed, and deploys the rest", async () => {
    const tf = fakeTerraform(allCreate, { "logrelay-prod-us-east-1": "apply" });
    const lines: string[] = [];
    const reports = await runFleet("deploy", fleet, {
      parallelism: 2,
      terraform: tf.run,
      progress: (l) => lines.push(l),
    });
    const result = Object.fromEntries(reports.map((r) => [r.stack, [r.result, r.error]]));

    expect(result["logrelay-prod-us-east-1"]).toEqual([
      "failed",
      "terraform apply: Error: creating thing in logrelay-prod-us-east-1 AccessDenied: nope",
    ]);
    expect(result["logrelay-prod-cluster-c1"]).toEqual(["skipped", "logrelay-prod-us-east-1 did not apply"]);
    expect(result["logrelay-prod-cluster-c2"]![0]).toBe("applied");
    expect(result["logrelay-prod-customer-acme"]![0]).toBe("applied");
    expect(tf.applied).not.toContain("logrelay-prod-cluster-c1");
    expect(lines).toHaveLength(fleet.length);
    expect(lines.at(-1)).toMatch(/^\[8\/8\] /);
  });

  it("plans every stack whatever fails, with no order", async () => {
    const tf = fakeTerraform({}, { "logrelay-prod-global": "plan" });
    const reports = await runFleet("plan", fleet, { parallelism: 8, terraform: tf.run });
    expect(reports.filter((r) => r.result === "failed").map((r) => r.stack)).toEqual([
      "logrelay-prod-global",
    ]);
    expect(reports.filter((r) => r.result === "no changes")).toHaveLength(fleet.length - 1);
  });

  it("does not apply a plan that destroys, unless allowed", async () => {
    const destroys = planJson([{ address: "aws_sqs_queue.q", actions: ["delete"] }]);
    const one = [fleet[0]!];
    const refused = fakeTerraform({ "logrelay-prod-global": destroys });
    const [report] = await runFleet("deploy", one, { parallelism: 1, terraform: refused.run });
    expect(report).toMatchObject({ result: "failed", destroy: 1 });
    expect(report!.error).toMatch(/destroys 1 resource\(s\).*--allow-destroy/);
    expect(refused.applied).toEqual([]);

    const allowed = fakeTerraform({ "logrelay-prod-global": destroys });
    const [done] = await runFleet("deploy", one, {
      parallelism: 1,
      terraform: allowed.run,
      allowDestroy: true,
    });
    expect(done).toMatchObject({ result: "applied", destroy: 1 });
  });

  it("starts nothing more once interrupted, and says which stacks did not start", async () => {
    const controller = new AbortController();
    const tf = fakeTerraform(allCreate);
    const reports = await runFleet("deploy", fleet, {
      parallelism: 1,
      terraform: tf.run,
      signal: controller.signal,
      progress: () => controller.abort(),
    });
    expect(reports.filter((r) => r.result === "applied")).toHaveLength(1);
    expect(reports.filter((r) => r.result === "skipped").map((r) => r.error)).toEqual(
      Array(fleet.length - 1).fill("interrupted before it started"),
    );
  });

  it("drift: a stack whose plan finds changes made outside Terraform is drifted, a plain code change is not", async () => {
    const outside = planJson(
      [
        {
          address: "aws_sqs_queue.q",
          actions: ["update"],
          before: { visibility: 77 },
          after: { visibility: 30 },
        },
      ],
      [
        {
          address: "aws_sqs_queue.q",
          actions: ["update"],
          before: { visibility: 30 },
          after: { visibility: 77 },
        },
      ],
    );
    const codeChange = planJson([
      {
        address: "aws_sqs_queue.q",
        actions: ["update"],
        before: { visibility: 30 },
        after: { visibility: 60 },
      },
    ]);
    const tf = fakeTerraform({ "logrelay-prod-us-east-1": outside, "logrelay-prod-eu-west-1": codeChange });
    const reports = await runFleet("drift", fleet, { parallelism: 4, terraform: tf.run });
    const result = Object.fromEntries(reports.map((r) => [r.stack, r.result]));
    expect(result["logrelay-prod-us-east-1"]).toBe("drifted");
    expect(result["logrelay-prod-eu-west-1"]).toBe("no changes");
    expect(tf.applied).toEqual([]);
  });
});

describe("infra: choosing stacks", () => {
  const specs = environmentStacks(env);
  const chosen = (glob: string) => selectStacks(specs, glob, "prod").map((s) => s.name);

  it.each([
    ["*", 8],
    ["customer-*", 3],
    ["logrelay-prod-customer-*", 3],
    ["us-east-1", 1],
    ["{global,cluster-*}", 3],
  ])("%s selects %i stacks", (glob, n) => {
    expect(chosen(glob)).toHaveLength(n);
  });

  it("names the stacks there are when none match (usage, exit 2)", () => {
    let error: CliError | undefined;
    try {
      chosen("custmer-*");
    } catch (e) {
      error = e as CliError;
    }
    expect(error).toBeInstanceOf(CliError);
    expect(error!.code).toBe(2);
    expect(error!.message).toMatch(
      /^--stacks "custmer-\*" matches none of the 8 stacks of prod \(logrelay-prod-global, /,
    );
  });
});
