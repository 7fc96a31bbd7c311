import { join, resolve } from "node:path";
import { bundleNodeProgram } from "../stacks/constructs/bundle";

/**
 * The processor image's program: the whole `logrelay` CLI (its `deliver --queue-url` worker is
 * what the in-cluster Deployment runs) as one file, copied by functions/distributor/Containerfile.
 */
const ROOT = resolve(__dirname, "..");
export const PROCESSOR_BUNDLE = join(ROOT, "build", "processor", "logrelay.js");
export const CONTAINERFILE = join(ROOT, "functions", "distributor", "Containerfile");

export function buildProcessor(): string {
  bundleNodeProgram(join(ROOT, "cli", "main.ts"), PROCESSOR_BUNDLE);
  return PROCESSOR_BUNDLE;
}

if (require.main === module) {
  console.log(`wrote ${buildProcessor()}`);
  console.log(
    "next: podman build -f functions/distributor/Containerfile -t <registry>/logrelay/processor:<version> .",
  );
}
