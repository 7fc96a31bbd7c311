import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { bundleNodeProgram, LAMBDA_UNUSED_CREDENTIAL_PROVIDERS } from "../stacks/constructs/bundle";

/**
 * The distributor function's cold start as this machine sees it: the Lambda bundle built as the
 * regional stack builds it, its size, and the time `require` of it takes in a fresh Node process
 * (the handler module's top level: clients, settings, the engine), the median of `runs`.
 */
export function coldStart(runs = 9): {
  bundle_bytes: number;
  handler_import_ms: number;
  handler_import_ms_runs: number[];
} {
  const root = join(__dirname, "..");
  const outfile = join(root, "build", "bench", "cold-start", "index.js");
  bundleNodeProgram(join(root, "functions", "distributor", "index.ts"), outfile, {
    external: LAMBDA_UNUSED_CREDENTIAL_PROVIDERS,
  });
  const env = {
    PATH: process.env.PATH ?? "",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    TENANT_CONFIG_TABLE: "bench-configs",
    TENANT_REGISTRY_TABLE: "bench-registry",
    DELIVERY_LEDGER_TABLE: "bench-ledger",
    CENTRAL_LOG_DISTRIBUTION_ROLE_ARN: "arn:aws:iam::123456789012:role/logrelay/bench-central",
  };
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(outfile)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const times = Array.from({ length: runs }, () =>
    Number(execFileSync(process.execPath, ["-e", script], { env, encoding: "utf8" })),
  ).sort((a, b) => a - b);
  return {
    bundle_bytes: statSync(outfile).size,
    handler_import_ms: Number(times[Math.floor(runs / 2)]!.toFixed(1)),
    handler_import_ms_runs: times.map((t) => Number(t.toFixed(1))),
  };
}
