import { createServer, type Server } from "node:http";
import type { ApiRequest, ApiResponse } from "./router";

const MAX_BODY_BYTES = 256 * 1024;

/** The audit trail's actor for changes through the development server, which authenticates nobody. */
export const LOCAL_SERVER_ACTOR = "(logrelay api serve: unauthenticated, 127.0.0.1)";

/**
 * The API as a plain HTTP server for development (against the emulator). No authentication:
 * it binds to 127.0.0.1 only; deployed, API Gateway requires SigV4 (IAM) on every route.
 */
export function startLocalServer(
  route: (req: ApiRequest) => Promise<ApiResponse>,
  port: number,
  onRequest?: (line: string) => void,
): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { "content-type": "application/json" }).end(
          JSON.stringify({
            error: { code: "PayloadTooLarge", message: `bodies are limited to ${MAX_BODY_BYTES} bytes` },
          }),
        );
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        const out = await route({
          method: req.method ?? "GET",
          path: url.pathname,
          query: Object.fromEntries(url.searchParams.entries()),
          ...(body !== "" && { body }),
          actor: LOCAL_SERVER_ACTOR,
        });
        onRequest?.(`${req.method} ${url.pathname} -> ${out.status}`);
        if (out.body === undefined) res.writeHead(out.status).end();
        else res.writeHead(out.status, { "content-type": "application/json" }).end(JSON.stringify(out.body));
      } catch (error) {
        onRequest?.(`${req.method} ${url.pathname} -> 500 ${(error as Error).name}`);
        res
          .writeHead(500, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "InternalError", message: (error as Error).message } }));
      }
    });
  });
  // A busy port (EADDRINUSE) or a refused one rejects here instead of crashing the process.
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
