import { Sha256 } from "@aws-crypto/sha256-js";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { describeError } from "../functions/shared/errors";
import type { Page } from "../functions/tenant-api/ports";
import type { ApiRequest } from "../functions/tenant-api/router";
import {
  type PagedRoute,
  type PageItem,
  type RouteKey,
  type RouteParams,
  type RouteReplies,
  routePath,
  successStatus,
} from "../functions/tenant-api/routes";
import { loadApiSettings } from "../functions/tenant-api/settings";
import { createRouter } from "../functions/tenant-api/wiring";
import { awsRegion, settingsOrUsage } from "./context";
import { CliError, type CliIo } from "./io";

/** A reply as it came: its status and JSON body (checked against the route's contract by ApiClient). */
export interface ApiReply {
  readonly status: number;
  readonly body: unknown;
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

/** Where the CLI finds the API: --api-url (SigV4 over HTTPS), or the tables (the same service, in-process). */
export interface ApiConnection {
  readonly apiUrl?: string;
  readonly table?: string;
  readonly registryTable?: string;
  readonly auditTable?: string;
}

/**
 * Who the CLI acts as in direct mode, for the audit trail: the caller's identity as STS names it
 * (the deployed API takes it from the request's IAM signature instead).
 */
export async function localPrincipal(region: string): Promise<string> {
  const identity = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
  return identity.Arn ?? `account ${identity.Account ?? "unknown"}`;
}

/** --api-url / LOGRELAY_API_URL, else --table / TENANT_CONFIG_TABLE with the registry table. */
export async function transportFor(options: ApiConnection, io: CliIo): Promise<ApiTransport> {
  const apiUrl = options.apiUrl ?? io.env.LOGRELAY_API_URL;
  if (apiUrl) return httpTransport(apiUrl, await awsRegion(io));
  const hint =
    "no API to talk to: pass --api-url URL (or LOGRELAY_API_URL), or --table NAME, --registry-table NAME and --audit-table NAME (or TENANT_CONFIG_TABLE, TENANT_REGISTRY_TABLE and AUDIT_TABLE) with AWS_REGION. ";
  const settings = settingsOrUsage(
    () =>
      loadApiSettings({
        ...io.env,
        ...(options.table && { TENANT_CONFIG_TABLE: options.table }),
        ...(options.registryTable && { TENANT_REGISTRY_TABLE: options.registryTable }),
        ...(options.auditTable && { AUDIT_TABLE: options.auditTable }),
        // Direct mode only needs the central role for `validate`; a placeholder keeps the others working.
        CENTRAL_LOG_DISTRIBUTION_ROLE_ARN:
          io.env.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN ?? "arn:aws:iam::000000000000:role/unset",
      }),
    hint,
  );
  const route = createRouter(settings);
  let actor: Promise<string> | undefined;
  return async (req) => {
    // Reads need no actor; a write is recorded under the caller's identity.
    if (req.method !== "GET") actor ??= localPrincipal(settings.AWS_REGION);
    const res = await route({ ...req, ...(req.method !== "GET" && { actor: await actor }) });
    return { status: res.status, body: res.body };
  };
}

/** What a call sends besides its path: query parameters and a JSON body. */
export interface CallOptions {
  readonly query?: Record<string, string | undefined>;
  readonly body?: unknown;
}

/** A write not sent (dry run): the request it would have been. */
export interface DryRun {
  readonly dryRun: { readonly method: string; readonly path: string; readonly body?: unknown };
}

/** An error reply as a CliError listing its field messages. */
export function replyError(reply: ApiReply): CliError {
  const err = ((reply.body as { error?: Record<string, unknown> } | undefined)?.error ?? {}) as {
    code?: string;
    message?: string;
    fields?: Record<string, string[]>;
  };
  const fields = Object.entries(err.fields ?? {})
    .map(([f, msgs]) => `\n  ${f}: ${msgs.join("; ")}`)
    .join("");
  return new CliError(
    `${reply.status} ${err.code ?? "Error"}: ${err.message ?? JSON.stringify(reply.body)}${fields}`,
  );
}

/**
 * The tenant API by route key (functions/tenant-api/routes.ts): paths are built from the key and
 * its parameters, replies are typed by the route's contract, an error reply becomes a CliError.
 * With `dryRun`, writes are not sent: `write` returns the request instead (reads still go out).
 */
export class ApiClient {
  private transport?: Promise<ApiTransport>;

  constructor(
    private readonly connect: () => Promise<ApiTransport>,
    readonly dryRun = false,
  ) {}

  /** A read (or a write made even in a dry run): the route's reply, or a CliError. */
  async call<K extends RouteKey>(
    route: K,
    params: RouteParams<K>,
    options: CallOptions = {},
  ): Promise<RouteReplies[K]> {
    const reply = await this.send(route, params, options);
    if (reply.status !== successStatus(route)) throw replyError(reply);
    return reply.body as RouteReplies[K];
  }

  /** A read whose "not found" is an answer: undefined on 404. */
  async find<K extends RouteKey>(route: K, params: RouteParams<K>): Promise<RouteReplies[K] | undefined> {
    const reply = await this.send(route, params, {});
    if (reply.status === 404) return undefined;
    if (reply.status !== successStatus(route)) throw replyError(reply);
    return reply.body as RouteReplies[K];
  }

  /** A write: the reply, or in a dry run the request it would send. */
  async write<K extends RouteKey>(
    route: K,
    params: RouteParams<K>,
    options: CallOptions = {},
  ): Promise<RouteReplies[K] | DryRun> {
    if (this.dryRun) {
      const path = withQuery(routePath(route, params), options.query);
      return {
        dryRun: {
          method: route.split(" ")[0]!,
          path,
          ...(options.body !== undefined && { body: options.body }),
        },
      };
    }
    return this.call(route, params, options);
  }

  /** Every item of a paged list, page after page (`onPage` hears the count so far). */
  async all<K extends PagedRoute>(
    route: K,
    params: RouteParams<K>,
    onPage?: (count: number, more: boolean) => void,
  ): Promise<PageItem<K>[]> {
    const items: PageItem<K>[] = [];
    let cursor: string | undefined;
    do {
      const page = (await this.call(route, params, {
        query: { limit: "100", ...(cursor && { cursor }) },
      })) as Page<PageItem<K>>;
      items.push(...page.items);
      cursor = page.cursor;
      onPage?.(items.length, cursor !== undefined);
    } while (cursor);
    return items;
  }

  private async send<K extends RouteKey>(
    route: K,
    params: RouteParams<K>,
    options: CallOptions,
  ): Promise<ApiReply> {
    this.transport ??= this.connect();
    const transport = await this.transport;
    return transport({
      method: route.split(" ")[0]!,
      path: routePath(route, params),
      query: options.query ?? {},
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
  }
}

const withQuery = (path: string, query: Record<string, string | undefined> = {}) => {
  const entries = Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined);
  return entries.length === 0 ? path : `${path}?${new URLSearchParams(entries).toString()}`;
};

/** The client of a command: its connection options, and --dry-run for writes. */
export const apiClient = (options: ApiConnection & { dryRun?: boolean }, io: CliIo) =>
  new ApiClient(() => transportFor(options, io), options.dryRun ?? false);

/** True for a write that was not sent. */
export const isDryRun = (reply: unknown): reply is DryRun =>
  typeof reply === "object" && reply !== null && "dryRun" in reply;
