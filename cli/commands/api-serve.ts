import type { Command } from "commander";
import { startLocalServer } from "../../functions/tenant-api/local-server";
import { loadApiSettings } from "../../functions/tenant-api/settings";
import { createRouter } from "../../functions/tenant-api/wiring";
import { numberOption, settingsOrUsage } from "../context";
import { CliError, type CliIo } from "../io";

export function registerApiServe(program: Command, io: CliIo): void {
  program
    .command("api")
    .description("the tenant-config API")
    .command("serve")
    .description("serve the API on 127.0.0.1 for development (no auth; the deployed API requires IAM)")
    .option("--port <n>", "port", "8080")
    .addHelpText("after", "\nExample: logrelay api serve --port 8080")
    .action(async (o: { port: string }) => {
      const port = numberOption(o.port, "--port", {
        min: 0,
        max: 65_535,
        says: "a port number 0-65535 (0: any free port)",
      });
      const settings = settingsOrUsage(() => loadApiSettings(io.env));
      const server = await startLocalServer(createRouter(settings), port, (line) =>
        io.stderr.write(`${line}\n`),
      ).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "EADDRINUSE")
          throw new CliError(`port ${port} is in use: pass another --port (or 0 for any free port)`);
        throw error;
      });
      const address = server.address();
      io.stdout.write(
        `tenant API on http://127.0.0.1:${typeof address === "object" && address ? address.port : o.port} (table ${settings.TENANT_CONFIG_TABLE})\n`,
      );
      await new Promise<void>((resolve) =>
        io.shutdown.addEventListener("abort", () => server.close(() => resolve()), { once: true }),
      );
    });
}
