/**
 * A local fake AWS endpoint for the end-to-end benchmark: SQS (JSON protocol; one queue with
 * visibility timeouts, receive counts and long polls, and POST /__send to add messages), S3 (GetObject,
 * path style), STS (AssumeRole, query protocol), DynamoDB (GetItem, Query, UpdateItem) and
 * CloudWatch Logs (CreateLogGroup, PutRetentionPolicy, CreateLogStream, PutLogEvents), answering in each service's
 * wire format after a fixed latency per call. Runs as its own process, so the worker's CPU is
 * measured alone:
 *
 *   tsx bench/fake-aws.ts --latency 30 --scenario PATH.json   # prints "listening <url>"
 *   GET /__stats                                              # calls (and failed calls) per operation, roles assumed
 *
 * Not an emulator: conditions always hold (every claim is granted), which is what a run over
 * distinct objects sees anyway.
 */

import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Scenario {
  readonly bucket: string;
  /** Object key -> gzipped body (base64). */
  readonly objects: Record<string, string>;
  /** Notification bodies, in queue order. */
  readonly messages: string[];
  /** Tenant -> its delivery configs (plain JSON, marshalled here) and registered accounts. */
  readonly tenants: Record<string, { configs: Record<string, string>[]; accounts: string[] }>;
}

type Attr = { S: string } | { L: Attr[] } | { N: string } | { BOOL: boolean };
const marshal = (item: Record<string, string | string[]>): Record<string, Attr> =>
  Object.fromEntries(
    Object.entries(item).map(([k, v]) => [k, Array.isArray(v) ? { L: v.map((s) => ({ S: s })) } : { S: v }]),
  );

/**
 * One SQS standard queue, oldest message first: a received message is invisible for its
 * visibility timeout and then comes back in its place (before newer ones); every receive counts
 * and gets a new receipt handle, the old one no longer names the message.
 */
class FakeQueue {
  private readonly messages: {
    id: string;
    body: string;
    visibleAt: number;
    receives: number;
    handle?: string;
  }[];
  private readonly byHandle = new Map<string, FakeQueue["messages"][number]>();
  private sent = 0;

  constructor(bodies: readonly string[]) {
    this.messages = [];
    this.send(bodies);
  }

  send(bodies: readonly string[]): string[] {
    return bodies.map((body) => {
      const id = `m-${this.sent++}`;
      this.messages.push({ id, body, visibleAt: 0, receives: 0 });
      return id;
    });
  }

  receive(max: number, visibilitySeconds: number) {
    const now = Date.now();
    const taken = [];
    for (const m of this.messages) {
      if (taken.length >= max) break;
      if (m.visibleAt > now) continue;
      if (m.handle) this.byHandle.delete(m.handle);
      m.handle = randomUUID();
      m.receives++;
      m.visibleAt = now + visibilitySeconds * 1000;
      this.byHandle.set(m.handle, m);
      taken.push({
        MessageId: m.id,
        ReceiptHandle: m.handle,
        Body: m.body,
        MD5OfBody: createHash("md5").update(m.body).digest("hex"),
        Attributes: { ApproximateReceiveCount: String(m.receives) },
      });
    }
    return taken;
  }

  delete(handle: string): void {
    const m = this.byHandle.get(handle);
    if (!m) return;
    this.byHandle.delete(handle);
    this.messages.splice(this.messages.indexOf(m), 1);
  }

  setVisibility(handle: string, seconds: number): void {
    const m = this.byHandle.get(handle);
    if (m) m.visibleAt = Date.now() + seconds * 1000;
  }

  attributes(): Record<string, string> {
    const now = Date.now();
    const visible = this.messages.filter((m) => m.visibleAt <= now).length;
    return {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(this.messages.length - visible),
      ApproximateNumberOfMessagesDelayed: "0",
    };
  }
}

export function startFakeAws(scenario: Scenario, latencyMs: number) {
  const calls = new Map<string, number>();
  const roles = new Set<string>();
  const objects = new Map(Object.entries(scenario.objects).map(([k, v]) => [k, Buffer.from(v, "base64")]));
  const queue = new FakeQueue(scenario.messages);
  const groups = new Set<string>();
  const streams = new Set<string>();
  let events = 0;

  const json = (res: ServerResponse, status: number, body: unknown, type = "application/x-amz-json-1.0") => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": type,
      "content-length": Buffer.byteLength(text),
      "x-amzn-requestid": randomUUID(),
    });
    res.end(text);
  };
  const failed = new Map<string, number>();
  const count = (op: string, res?: ServerResponse) => {
    calls.set(op, (calls.get(op) ?? 0) + 1);
    res?.once("finish", () => {
      if (res.statusCode >= 400) failed.set(op, (failed.get(op) ?? 0) + 1);
    });
  };

  function sqs(op: string, input: Record<string, unknown>, res: ServerResponse) {
    if (op === "ReceiveMessage") {
      const max = Number(input.MaxNumberOfMessages ?? 1);
      const visibility = Number(input.VisibilityTimeout ?? 30);
      const until = Date.now() + Number(input.WaitTimeSeconds ?? 0) * 1000;
      // Long polling: answer as soon as a message is visible, or empty when the wait is over.
      const answer = () => {
        const taken = queue.receive(max, visibility);
        if (taken.length === 0 && Date.now() < until) return void setTimeout(answer, 10);
        json(res, 200, taken.length > 0 ? { Messages: taken } : {});
      };
      return answer();
    }
    if (op === "DeleteMessage") {
      queue.delete(String(input.ReceiptHandle));
      return json(res, 200, {});
    }
    if (op === "ChangeMessageVisibility") {
      queue.setVisibility(String(input.ReceiptHandle), Number(input.VisibilityTimeout));
      return json(res, 200, {});
    }
    if (op === "ChangeMessageVisibilityBatch") {
      const entries = input.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[];
      for (const e of entries) queue.setVisibility(e.ReceiptHandle, Number(e.VisibilityTimeout));
      return json(res, 200, { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] });
    }
    if (op === "GetQueueAttributes") return json(res, 200, { Attributes: queue.attributes() });
    return json(res, 400, { __type: "InvalidAction", message: op });
  }

  function dynamodb(op: string, input: Record<string, unknown>, res: ServerResponse) {
    const key = (input.Key as Record<string, { S?: string }> | undefined) ?? {};
    if (op === "Query") {
      const values = input.ExpressionAttributeValues as Record<string, { S: string }>;
      const tenant = values[":t"]?.S ?? "";
      return json(res, 200, { Items: (scenario.tenants[tenant]?.configs ?? []).map(marshal), Count: 0 });
    }
    if (op === "GetItem") {
      const tenant = key.tenant_id?.S;
      const t = tenant ? scenario.tenants[tenant] : undefined;
      return json(res, 200, t ? { Item: marshal({ tenant_id: tenant!, accounts: t.accounts }) } : {});
    }
    if (op === "UpdateItem")
      return json(res, 200, input.ReturnValues === "ALL_NEW" ? { Attributes: { pk: key.pk } } : {});
    return json(res, 400, { __type: "com.amazon.coral.validate#ValidationException", message: op });
  }

  function logs(op: string, input: Record<string, unknown>, res: ServerResponse) {
    const group = String(input.logGroupName);
    const stream = `${group}\u0000${String(input.logStreamName)}`;
    const type = "application/x-amz-json-1.1";
    const missing = (what: string) =>
      json(
        res,
        400,
        { __type: "ResourceNotFoundException", message: `The specified ${what} does not exist.` },
        type,
      );
    const exists = () =>
      json(
        res,
        400,
        { __type: "ResourceAlreadyExistsException", message: "The specified resource already exists" },
        type,
      );
    if (op === "CreateLogGroup") {
      if (groups.has(group)) return exists();
      groups.add(group);
      return json(res, 200, {}, type);
    }
    if (op === "PutRetentionPolicy")
      return groups.has(group) ? json(res, 200, {}, type) : missing("log group");
    if (op === "CreateLogStream") {
      if (!groups.has(group)) return missing("log group");
      if (streams.has(stream)) return exists();
      streams.add(stream);
      return json(res, 200, {}, type);
    }
    if (op === "PutLogEvents") {
      if (!streams.has(stream)) return missing("log stream");
      events += (input.logEvents as unknown[]).length;
      return json(res, 200, { nextSequenceToken: "1" }, type);
    }
    return json(res, 400, { __type: "InvalidOperationException", message: op }, type);
  }

  function sts(form: URLSearchParams, res: ServerResponse) {
    const role = form.get("RoleArn") ?? "";
    roles.add(role);
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const xml =
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
      `<AccessKeyId>ASIA${randomUUID().slice(0, 12).toUpperCase()}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>` +
      `<SessionToken>token</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>AROA:bench</AssumedRoleId><Arn>${role}</Arn></AssumedRoleUser></AssumeRoleResult>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
    res.writeHead(200, { "content-type": "text/xml", "content-length": Buffer.byteLength(xml) });
    res.end(xml);
  }

  function s3(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).slice(1);
    const key = path.slice(path.indexOf("/") + 1);
    const body = objects.get(key);
    count(req.method === "HEAD" ? "HeadObject" : "GetObject", res);
    if (!body) {
      const xml = `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`;
      res.writeHead(404, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
      res.end(xml);
      return;
    }
    res.writeHead(200, {
      "content-length": body.length,
      etag: `"${createHash("md5").update(body).digest("hex")}"`,
      "last-modified": new Date().toUTCString(),
      "content-type": "application/octet-stream",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    if (req.url === "/__stats") {
      return json(res, 200, {
        calls: Object.fromEntries(calls),
        failed: Object.fromEntries(failed),
        roles: [...roles],
        events,
        ...queue.attributes(),
      });
    }
    if (req.url === "/__send") {
      const ids = queue.send(JSON.parse(text) as string[]);
      return json(res, 200, { ids });
    }
    await new Promise((r) => setTimeout(r, latencyMs));
    const target = String(req.headers["x-amz-target"] ?? "");
    const op = target.slice(target.lastIndexOf(".") + 1);
    const service = target.startsWith("AmazonSQS.")
      ? sqs
      : target.startsWith("DynamoDB_")
        ? dynamodb
        : target.startsWith("Logs_")
          ? logs
          : undefined;
    if (service) {
      count(op, res);
      service(op, JSON.parse(text), res);
      return;
    }
    const form = new URLSearchParams(text);
    if (form.get("Action") === "AssumeRole") {
      count("AssumeRole", res);
      sts(form, res);
      return;
    }
    return s3(req, res);
  });
  return new Promise<{ url: string; close: () => void }>((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => server.close(),
      }),
    ),
  );
}

if (require.main === module) {
  const arg = (name: string) => process.argv[process.argv.indexOf(`--${name}`) + 1];
  const scenario = JSON.parse(readFileSync(arg("scenario"), "utf8")) as Scenario;
  startFakeAws(scenario, Number(arg("latency"))).then(({ url }) =>
    process.stdout.write(`listening ${url}\n`),
  );
}
