import { availableParallelism, freemem } from "node:os";
import { z } from "zod";

/**
 * `logrelay infra plan | drift | deploy`: terraform init and plan (or apply) of many stacks, each
 * with its own state, a bounded number at a time, in the declared order when applying. Terraform
 * is injected (RunTerraform) so the scheduling and the reading of plans are tested without it;
 * the command runs the real one.
 */

export type InfraAction = "plan" | "drift" | "deploy";

export interface FleetStack {
  readonly name: string;
  /** The synthesized stack's folder (cdktf.out/stacks/<name>). */
  readonly dir: string;
  /** Stacks to apply first; only those among the selected ones are waited for. */
  readonly dependsOn: readonly string[];
}

/** A resource whose real state differs from the recorded one (changed outside Terraform). */
export interface DriftedResource {
  readonly address: string;
  /** Terraform's actions for the refresh: `update` (changed) or `delete` (gone). */
  readonly actions: string[];
  /** Top-level attributes that differ, sorted. */
  readonly attributes: string[];
}

export type StackResult = "no changes" | "changes" | "drifted" | "applied" | "failed" | "skipped";

export interface StackReport {
  readonly stack: string;
  readonly result: StackResult;
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  readonly drift: DriftedResource[];
  /** The plan's actions by resource (no-ops left out). */
  readonly changes: { address: string; actions: string[] }[];
  readonly seconds: number;
  /** Why it failed or was skipped (terraform's own error lines). */
  readonly error?: string;
}

const NOTHING: PlanSummary = { add: 0, change: 0, destroy: 0, drift: [], changes: [] };

export type PlanSummary = Pick<StackReport, "add" | "change" | "destroy" | "drift" | "changes">;

export type RunTerraform = (dir: string, args: string[]) => Promise<{ code: number; output: string }>;

/** Memory of one stack in flight (terraform + the AWS provider), measured: 0.76 GB. */
export const STACK_MEMORY_BYTES = 0.8 * 1024 ** 3;

/**
 * Stacks in flight by default: one per core (a plan is CPU-bound in the provider; 8 at a time on
 * 2 cores were no faster than 2) and no more than the free memory holds.
 */
export function defaultParallelism(cores = availableParallelism(), freeBytes = freemem()): number {
  return Math.max(1, Math.min(cores, Math.floor(freeBytes / STACK_MEMORY_BYTES)));
}

/** The saved plan inside each stack's folder (terraform show reads it; apply applies exactly it). */
export const PLAN_FILE = "logrelay.tfplan";

const ResourceChange = z.object({
  address: z.string(),
  change: z.object({
    actions: z.array(z.string()),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
  }),
});
/** The parts of `terraform show -json <plan>` read here (https://developer.hashicorp.com/terraform/internals/json-format). */
const PlanJson = z.object({
  format_version: z.string(),
  resource_changes: z.array(ResourceChange).optional(),
  resource_drift: z.array(ResourceChange).optional(),
  /** Attributes (of any resource) the plan's changes depend on. */
  relevant_attributes: z
    .array(z.object({ resource: z.string(), attribute: z.array(z.union([z.string(), z.number()])) }))
    .optional(),
});

const changedAttributes = (before: unknown, after: unknown): string[] => {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  if (typeof b !== "object" || typeof a !== "object") return [];
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]))
    .sort();
};

/**
 * Counts a plan's actions (a replacement is one add and one destroy) and lists its drift: an
 * attribute the refresh found changed outside Terraform that the plan changes back (or that
 * another change depends on), and every resource that is gone. The refresh's other differences
 * are the provider filling in values it computes (an empty `tags` map, a role's `inline_policy`
 * read back), not changes anyone made.
 */
export function summarizePlan(text: string): PlanSummary {
  const plan = PlanJson.parse(JSON.parse(text));
  let add = 0;
  let change = 0;
  let destroy = 0;
  const acted = new Map<string, Set<string>>();
  const note = (address: string, attributes: string[]) =>
    acted.set(address, new Set([...(acted.get(address) ?? []), ...attributes]));
  const changes: PlanSummary["changes"] = [];
  for (const { address, change: c } of plan.resource_changes ?? []) {
    if (!c.actions.every((a) => a === "no-op" || a === "read")) changes.push({ address, actions: c.actions });
    if (c.actions.includes("create")) add++;
    if (c.actions.includes("delete")) destroy++;
    if (c.actions.includes("update")) {
      change++;
      note(address, changedAttributes(c.before, c.after));
    }
  }
  for (const r of plan.relevant_attributes ?? [])
    if (typeof r.attribute[0] === "string") note(r.resource, [r.attribute[0]]);
  const drift = (plan.resource_drift ?? []).flatMap((r): DriftedResource[] => {
    if (r.change.actions.includes("delete"))
      return [{ address: r.address, actions: r.change.actions, attributes: [] }];
    const attributes = changedAttributes(r.change.before, r.change.after).filter((a) =>
      acted.get(r.address)?.has(a),
    );
    return attributes.length > 0 ? [{ address: r.address, actions: r.change.actions, attributes }] : [];
  });
  return { add, change, destroy, drift, changes };
}

/** Terraform's error lines ("Error: ..." and the line after), else its last lines. */
export function terraformError(output: string): string {
  const lines = output.split("\n").map((l) => l.replace(/^[│╷╵\s]+/, "").trimEnd());
  const errors = lines.flatMap((l, i) => (l.startsWith("Error:") ? [[l, lines[i + 2] ?? ""].join(" ")] : []));
  const text = errors.length > 0 ? errors.join("; ") : lines.filter(Boolean).slice(-3).join(" ");
  return text.replace(/\s+/g, " ").trim().slice(0, 600);
}

class StepFailed extends Error {}

async function step(terraform: RunTerraform, dir: string, args: string[], ok = [0]) {
  const result = await terraform(dir, args);
  if (!ok.includes(result.code))
    throw new StepFailed(`terraform ${args[0]}: ${terraformError(result.output)}`);
  return result;
}

/**
 * init, plan, show (drift: what the plan's refresh found changed outside Terraform); for deploy, apply of exactly the saved plan, which
 * must not destroy anything unless `allowDestroy`.
 */
export async function runStack(
  action: InfraAction,
  stack: FleetStack,
  terraform: RunTerraform,
  { now = Date.now, allowDestroy = false }: { now?: () => number; allowDestroy?: boolean } = {},
): Promise<StackReport> {
  const started = now();
  const seconds = () => Math.round((now() - started) / 100) / 10;
  let plan = NOTHING;
  try {
    await step(terraform, stack.dir, ["init", "-input=false"]);
    await step(terraform, stack.dir, ["plan", "-input=false", "-lock-timeout=120s", `-out=${PLAN_FILE}`]);
    const shown = await step(terraform, stack.dir, ["show", "-json", PLAN_FILE]);
    plan = summarizePlan(shown.output);
    const changes = plan.add + plan.change + plan.destroy;
    if (action === "deploy" && plan.destroy > 0 && !allowDestroy)
      throw new StepFailed(
        `the plan destroys ${plan.destroy} resource(s): review it with \`logrelay infra plan\`, then deploy with --allow-destroy`,
      );
    if (action === "deploy" && changes > 0) {
      await step(terraform, stack.dir, ["apply", "-input=false", "-auto-approve", PLAN_FILE]);
      return { stack: stack.name, result: "applied", ...plan, seconds: seconds() };
    }
    const result: StackResult =
      action === "drift"
        ? plan.drift.length > 0
          ? "drifted"
          : "no changes"
        : changes > 0
          ? "changes"
          : "no changes";
    return { stack: stack.name, result, ...plan, seconds: seconds() };
  } catch (error) {
    const message = error instanceof StepFailed ? error.message : `terraform: ${String(error)}`;
    return { stack: stack.name, result: "failed", ...plan, seconds: seconds(), error: message };
  }
}

export interface FleetOptions {
  readonly parallelism: number;
  readonly terraform: RunTerraform;
  /** One line per stack as it finishes. */
  readonly progress?: (line: string) => void;
  /** Stops starting stacks (those not started are reported as skipped). */
  readonly signal?: AbortSignal;
  /** Deploy applies plans that destroy resources only when this is set. */
  readonly allowDestroy?: boolean;
  readonly now?: () => number;
}

/** A stack that did what was asked (not failed, not skipped). */
export const passed = (r: StackReport) => r.result !== "failed" && r.result !== "skipped";

/**
 * Runs the action on every stack, at most `parallelism` at a time. A deploy starts a stack only
 * after the selected stacks it depends on were applied; when one fails, those depending on it are
 * skipped. Plans and drift checks read each stack's own state, so they need no order. The
 * reports come back in the stacks' order.
 */
export function runFleet(
  action: InfraAction,
  stacks: FleetStack[],
  options: FleetOptions,
): Promise<StackReport[]> {
  const { parallelism, terraform, progress = () => {}, signal, now = Date.now, allowDestroy } = options;
  const selected = new Set(stacks.map((s) => s.name));
  const waitsFor = (s: FleetStack) => (action === "deploy" ? s.dependsOn.filter((d) => selected.has(d)) : []);
  const reports = new Map<string, StackReport>();
  const pending = [...stacks];
  let running = 0;
  const finish = (report: StackReport) => {
    reports.set(report.stack, report);
    const counts = !passed(report)
      ? (report.error ?? "")
      : `+${report.add} ~${report.change} -${report.destroy}${report.drift.length > 0 ? `, ${report.drift.length} drifted` : ""}`;
    progress(
      `[${reports.size}/${stacks.length}] ${report.stack}: ${report.result} (${counts}) ${report.seconds} s`,
    );
  };
  const skip = (s: FleetStack, why: string) =>
    finish({ stack: s.name, result: "skipped", ...NOTHING, seconds: 0, error: why });

  return new Promise((resolve) => {
    const pump = () => {
      for (let i = 0; i < pending.length; ) {
        const s = pending[i]!;
        const deps = waitsFor(s);
        const broken = deps.find((d) => reports.has(d) && !passed(reports.get(d)!));
        if (signal?.aborted || broken !== undefined) {
          pending.splice(i, 1);
          skip(s, signal?.aborted ? "interrupted before it started" : `${broken} did not apply`);
          i = 0;
          continue;
        }
        if (running < parallelism && deps.every((d) => reports.has(d))) {
          pending.splice(i, 1);
          running++;
          void runStack(action, s, terraform, { now, allowDestroy }).then((report) => {
            running--;
            finish(report);
            pump();
          });
          continue;
        }
        i++;
      }
      if (running === 0) {
        // Nothing runs and nothing can start: only stacks waiting on unselected or cyclic names remain.
        for (const s of pending.splice(0)) skip(s, `waits for ${waitsFor(s).join(", ")}`);
        resolve(stacks.map((s) => reports.get(s.name)!));
      }
    };
    pump();
  });
}
