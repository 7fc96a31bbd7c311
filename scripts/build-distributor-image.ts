import { join, resolve } from "node:path";
import { bundleNodeProgram } from "../stacks/constructs/bundle";

/**
 * The in-cluster distributor image's program: the whole `logrelay` CLI (its `deliver --queue-url` worker is
 * what the in-cluster Deployment runs) as one file, copied by functions/distributor/Containerfile.
 */
const ROOT = resolve(__dirname, "..");
export const DISTRIBUTOR_BUNDLE = join(ROOT, "build", "distributor", "logrelay.js");
export const CONTAINERFILE = join(ROOT, "functions", "distributor", "Containerfile");

export function buildDistributorImage(): string {
  bundleNodeProgram(join(ROOT, "cli", "main.ts"), DISTRIBUTOR_BUNDLE);
  return DISTRIBUTOR_BUNDLE;
}

if (require.main === module) {
  console.log(`wrote ${buildDistributorImage()}`);
  console.log(
    "next: podman build -f functions/distributor/Containerfile -t <registry>/logrelay/distributor:<version> .",
  );
}
