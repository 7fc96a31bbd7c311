import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP endpoint in front of the emulator that answers some calls the way AWS does under load,
 * so the SDK's own parsing, retries and streaming are exercised (not a mock of the client):
 * per-operation rules answer with the service's error shape, delay, cut a response body after N
 * bytes, or run a hook once a response has gone out (e.g. kill a worker). Every call is counted.
 */

export type FaultAction =
  | { readonly kind: "error"; readonly status: number; readonly contentType: string; readonly body: string }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "cut"; readonly afterBytes: number }
  | { readonly kind: "after"; readonly hook: () => void };

export interface FaultRule {
  /** The operation: `PutLogEvents`, `UpdateItem`, `AssumeRole`, `GetObject`, `ReceiveMessage`, ... */
  readonly operation: string;
  /** Which of this operation's calls it applies to (1-based count). @default every call */
  readonly when?: (call: number) => boolean;
  /** Only requests whose body contains this text. */
  readonly bodyIncludes?: string;
  readonly action: FaultAction;
}

const xml = "text/xml";
const json = "application/x-amz-json-1.1";

/** CloudWatch Logs and DynamoDB (awsJson1_1, awsJson1_0): `{"__type": ..., "message": ...}`. */
export const jsonError = (type: string, message: string, status = 400): FaultAction => ({
  kind: "error",
  status,
  contentType: json,
  body: JSON.stringify({ __type: type, message }),
});

/** S3 (REST-XML). */
export const s3Error = (code: string, message: string, status: number): FaultAction => ({
  kind: "error",
  status,
  contentType: "application/xml",
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>FAULT0001</RequestId></Error>`,
});

/** STS and other query-protocol services (query-XML). */
export const queryError = (code: string, message: string, status: number, type = "Sender"): FaultAction => ({
  kind: "error",
  status,
  contentType: xml,
  body: `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>FAULT0001</RequestId></ErrorResponse>`,
});

export const throttle = jsonError("ThrottlingException", "Rate exceeded");

/** The operation a request names: X-Amz-Target, the query `Action=`, or S3's method and path. */
export function operationOf(req: IncomingMessage, body: string): string {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return target.slice(target.lastIndexOf(".") + 1);
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body);
  if (action) return action[1]!;
  const url = new URL(req.url ?? "/", "http://x");
  const hasKey = url.pathname.split("/").filter(Boolean).length > 1;
  switch (req.method) {
    case "GET":
      return hasKey ? "GetObject" : "ListObjects";
    case "HEAD":
      return hasKey ? "HeadObject" : "HeadBucket";
    case "PUT":
      return hasKey ? (req.headers["x-amz-copy-source"] ? "CopyObject" : "PutObject") : "PutBucket";
    case "DELETE":
      return hasKey ? "DeleteObject" : "DeleteBucket";
    default:
      return `${req.method} ${url.pathname}`;
  }
}

/**
 * moto evaluates DynamoDB condition expressions without a lock: measured here, 5 concurrent
 * conditional claims of one item were all granted in 2 of 30 rounds. DynamoDB serializes the
 * writes to an item, so the proxy forwards DynamoDB requests one at a time, which gives the
 * emulator DynamoDB's atomic conditional writes (the claims' guarantee rests on them).
 */
const isDynamoDb = (req: IncomingMessage) =>
  String(req.headers["x-amz-target"] ?? "").startsWith("DynamoDB_");

export class FaultProxy {
  private dynamoDbTurn: Promise<void> = Promise.resolve();
  /** Calls seen per operation, and how many of them a rule answered. */
  readonly calls = new Map<string, number>();
  readonly injected = new Map<string, number>();
  private rules: FaultRule[] = [];
  private server?: Server;
  endpoint = "";

  constructor(private readonly upstream: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Replaces the rules and resets the counters. */
  setRules(rules: FaultRule[]): void {
    this.rules = rules;
    this.calls.clear();
    this.injected.clear();
  }

  count(operation: string): number {
    return this.calls.get(operation) ?? 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const text = body.toString("utf8", 0, Math.min(body.length, 64 * 1024));
    const operation = operationOf(req, text);
    const call = (this.calls.get(operation) ?? 0) + 1;
    this.calls.set(operation, call);
    const rule = this.rules.find(
      (r) =>
        r.operation === operation &&
        (r.when?.(call) ?? true) &&
        (r.bodyIncludes === undefined || text.includes(r.bodyIncludes)),
    );
    if (rule) this.injected.set(operation, (this.injected.get(operation) ?? 0) + 1);
    const action = rule?.action;
    if (action?.kind === "error") {
      res.writeHead(action.status, {
        "content-type": action.contentType,
        "content-length": Buffer.byteLength(action.body),
        "x-amzn-requestid": "FAULT0001",
      });
      res.end(action.body);
      return;
    }
    if (action?.kind === "delay") await new Promise((r) => setTimeout(r, action.ms));
    if (!isDynamoDb(req)) {
      this.forward(req, body, res, action);
      return;
    }
    const previous = this.dynamoDbTurn;
    let done!: () => void;
    this.dynamoDbTurn = new Promise<void>((resolve) => {
      done = resolve;
    });
    await previous;
    res.once("close", done);
    this.forward(req, body, res, action);
  }

  private forward(req: IncomingMessage, body: Buffer, res: ServerResponse, action?: FaultAction): void {
    const target = new URL(this.upstream);
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        // The caller's Host is kept: moto builds queue URLs from it, so they name the proxy and the
        // SDK keeps sending SQS calls through it (else it warns and goes to the QueueUrl's host).
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (action?.kind === "cut") {
          // Full Content-Length promised, fewer bytes sent, then the connection is dropped.
          let sent = 0;
          answer.on("data", (chunk: Buffer) => {
            if (sent >= action.afterBytes) return;
            const part = chunk.subarray(0, action.afterBytes - sent);
            sent += part.length;
            res.write(part);
            if (sent >= action.afterBytes) {
              answer.destroy();
              setTimeout(() => res.socket?.destroy(), 20);
            }
          });
          return;
        }
        answer.pipe(res);
        if (action?.kind === "after") res.on("finish", action.hook);
      },
    );
    upstream.on("error", () => res.socket?.destroy());
    upstream.end(body);
  }
}
