import { Sha256 } from "@aws-crypto/sha256-js";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { describeError } from "../functions/shared/errors";
import type { ApiRequest } from "../functions/tenant-api/router";
import { CliError } from "./io";

export interface ApiReply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: replies are JSON documents checked by the caller
  readonly body: any;
}

/** How the CLI reaches the tenant-config API: over HTTPS with SigV4, or the same router in-process. */
export type ApiTransport = (request: ApiRequest) => Promise<ApiReply>;

/** Calls the deployed API, signing each request with the caller's AWS credentials (service execute-api). */
export function httpTransport(
  baseUrl: string,
  region: string,
  fetchImpl: typeof fetch = fetch,
): ApiTransport {
  const signer = new SignatureV4({
    service: "execute-api",
    region,
    credentials: defaultProvider(),
    sha256: Sha256,
  });
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new CliError(
      `--api-url ${JSON.stringify(baseUrl)} is not a URL: pass the regional stack's tenant_api_url, e.g. https://abc123.execute-api.us-east-1.amazonaws.com/prod`,
      2,
    );
  }
  return async (request) => {
    const url = new URL(
      request.path.replace(/^\//, ""),
      base.href.endsWith("/") ? base.href : `${base.href}/`,
    );
    for (const [k, v] of Object.entries(request.query)) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = {
      host: url.host,
      ...(request.body !== undefined && { "content-type": "application/json" }),
    };
    const signed = await signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers,
      ...(request.body !== undefined && { body: request.body }),
    });
    const res = await fetchImpl(url, {
      method: request.method,
      headers: signed.headers,
      ...(request.body !== undefined && { body: request.body }),
    }).catch((error: unknown) => {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the tenant API at ${base.href} (${cause?.code ?? cause?.message ?? describeError(error)}): ` +
          "check --api-url (or LOGRELAY_API_URL) and that the API is running",
      );
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = { error: { code: "BadResponse", message: text.slice(0, 500) } };
    }
    return { status: res.status, body };
  };
}
