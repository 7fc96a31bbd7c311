import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { buildSync } from "esbuild";

/**
 * One self-contained CommonJS file for Node 20 and 22 (every dependency inside, ES-module-only ones
 * too): what a Lambda zip and the in-cluster distributor image each ship.
 */
export function bundleNodeProgram(entry: string, outfile: string): void {
  mkdirSync(dirname(outfile), { recursive: true });
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    legalComments: "none",
    logLevel: "error",
  });
}
