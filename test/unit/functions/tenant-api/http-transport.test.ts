import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpTransport } from "../../../../cli/api-client";
import { startLocalServer } from "../../../../functions/tenant-api/local-server";
import { makeRouter } from "../../../../functions/tenant-api/router";
import { runCaptured } from "../../../harness/cli";
import { memoryService } from "../../../harness/registry";

const creds = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "eu-west-1" };

describe("CLI over HTTP against the local API server", () => {
  let url: string;
  let close: () => Promise<void>;
  const saved = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, creds);
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const server = await startLocalServer(makeRouter(memoryService({ acme: ["111111111111"] }).service), 0);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () =>
      new Promise((r) => {
        // Keep-alive sockets of the client would hold the worker open after the suite.
        server.closeAllConnections();
        server.close(() => r());
      });
  });
  afterAll(async () => {
    await close();
    process.env = saved;
  });

  it("puts and lists configs through the API with --api-url", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cfg-")), "acme.json");
    writeFileSync(
      file,
      JSON.stringify({
        type: "cloudwatch",
        log_distribution_role_arn: "arn:aws:iam::111111111111:role/logrelay/r",
        external_id: "ext-acme-1",
        log_group_name: "/logrelay/acme",
      }),
    );
    const put = await runCaptured(["tenants", "put", "acme", "--file", file, "--api-url", url], { ...creds });
    expect(put.code).toBe(0);
    const list = await runCaptured(["tenants", "list", "--api-url", url], { ...creds });
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/acme\s+cloudwatch\s+true\s+\/logrelay\/acme\s+\(default\)\s+all\s+1/);
    const missing = await runCaptured(["tenants", "get", "nobody", "s3", "--api-url", url], { ...creds });
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.err).toMatch(/404 NotFound: delivery config nobody\/s3 does not exist/);
  });

  it("signs every request with SigV4 for execute-api in the caller's region", async () => {
    const seen: Headers[] = [];
    const fakeFetch = (async (_u: URL, init: RequestInit) => {
      seen.push(new Headers(init.headers as Record<string, string>));
      return new Response(JSON.stringify({ items: [] }), { status: 200 });
    }) as unknown as typeof fetch;
    const call = httpTransport("https://abc123.execute-api.eu-west-1.amazonaws.com/", "eu-west-1", fakeFetch);

    await call({ method: "GET", path: "/delivery-configs", query: { limit: "5" } });

    const auth = seen[0]!.get("authorization")!;
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
    expect(seen[0]!.get("x-amz-date")).toMatch(/^\d{8}T\d{6}Z$/);
  });
});
