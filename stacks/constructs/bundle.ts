import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { buildSync } from "esbuild";

/**
 * What a Lambda function never loads from its bundle: the default credential chain's providers
 * for profiles, SSO, credential processes, web identity and instance or container metadata. A
 * function's credentials are in its environment variables, the chain's first link, and the
 * others are imported only when those are missing (`await import(...)` in
 * @aws-sdk/credential-provider-node). Left out, they take 102 KB (and their STS, SSO and SSO-OIDC
 * clients) out of every Lambda zip; the Node.js runtime's own SDK would serve them if ever asked.
 */
export const LAMBDA_UNUSED_CREDENTIAL_PROVIDERS = [
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-http",
  "@smithy/credential-provider-imds",
];

/**
 * One self-contained CommonJS file for Node 20 and 22 (every dependency inside, ES-module-only ones
 * too): what a Lambda zip and the in-cluster distributor image each ship. Packages' ES-module
 * builds come first (`module` before `main`): the AWS SDK clients' CommonJS builds are one file
 * each and cannot be tree-shaken (the distributor's bundle: 1.17 MB with them, 0.81 MB without).
 * `external` packages are left out, to be required at run time.
 */
export function bundleNodeProgram(
  entry: string,
  outfile: string,
  options: { external?: string[] } = {},
): void {
  mkdirSync(dirname(outfile), { recursive: true });
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    mainFields: ["module", "main"],
    minify: true,
    legalComments: "none",
    logLevel: "error",
    external: options.external ?? [],
    // The SDK's ES-module builds load node:http and the external credential providers with
    // import(): as require() they load the same way in Lambda and also inside a test's VM.
    supported: { "dynamic-import": false },
  });
}
