import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { DELIVERY_TYPE_CHOICES, describeIssues } from "../../functions/shared/delivery-config";
import { WritableConfigSchema } from "../../functions/tenant-api/schemas";
import { loadApiSettings } from "../../functions/tenant-api/settings";
import { createRouter } from "../../functions/tenant-api/wiring";
import { type ApiReply, type ApiTransport, httpTransport } from "../api-client";
import { awsRegion, type OutputFormat, outputOption, settingsOrUsage, structured } from "../context";
import { CliError, type CliIo, table } from "../io";

export interface ConnectionOptions {
  apiUrl?: string;
  table?: string;
  registryTable?: string;
  output: OutputFormat;
  dryRun?: boolean;
}

/** --api-url (SigV4 over HTTPS) or --table / TENANT_CONFIG_TABLE (the same service, in-process). */
export async function transportFor(options: ConnectionOptions, io: CliIo): Promise<ApiTransport> {
  const apiUrl = options.apiUrl ?? io.env.LOGRELAY_API_URL;
  if (apiUrl) return httpTransport(apiUrl, await awsRegion(io));
  const hint =
    "no API to talk to: pass --api-url URL (or LOGRELAY_API_URL), or --table NAME and --registry-table NAME (or TENANT_CONFIG_TABLE and TENANT_REGISTRY_TABLE) with AWS_REGION. ";
  const settings = settingsOrUsage(
    () =>
      loadApiSettings({
        ...io.env,
        ...(options.table && { TENANT_CONFIG_TABLE: options.table }),
        ...(options.registryTable && { TENANT_REGISTRY_TABLE: options.registryTable }),
        // Direct mode only needs the central role for `validate`; a placeholder keeps the others working.
        CENTRAL_LOG_DISTRIBUTION_ROLE_ARN:
          io.env.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN ?? "arn:aws:iam::000000000000:role/unset",
      }),
    hint,
  );
  const route = createRouter(settings);
  return async (req) => {
    const res = await route(req);
    return { status: res.status, body: res.body };
  };
}

/** Turns an error reply into a CliError listing field messages. */
export function expectOk(reply: ApiReply, ok: number[] = [200]): ApiReply {
  if (ok.includes(reply.status)) return reply;
  const err = reply.body?.error ?? {};
  const fields = Object.entries((err.fields ?? {}) as Record<string, string[]>)
    .map(([f, msgs]) => `\n  ${f}: ${msgs.join("; ")}`)
    .join("");
  throw new CliError(
    `${reply.status} ${err.code ?? "Error"}: ${err.message ?? JSON.stringify(reply.body)}${fields}`,
  );
}

type ConfigRow = Record<string, unknown> & { tenant_id: string; type: string };

function target(c: ConfigRow): string {
  return c.type === "cloudwatch"
    ? String(c.log_group_name)
    : `s3://${c.bucket_name}/${c.bucket_prefix ?? ""}`;
}

/** `one`: a command about one item prints an object, not a list of one. */
function printConfigs(io: CliIo, output: OutputFormat, configs: ConfigRow[], one = false): void {
  if (output !== "table") {
    io.stdout.write(structured(output, one ? configs[0] : configs));
    return;
  }
  io.stdout.write(
    table(
      ["TENANT", "TYPE", "ENABLED", "TARGET", "REGION", "FILTER", "VERSION", "UPDATED"],
      configs.map((c) => [
        c.tenant_id,
        c.type,
        String(c.enabled),
        target(c),
        String(c.target_region ?? "(default)"),
        [
          ...((c.desired_logs as string[]) ?? []),
          ...((c.groups as string[]) ?? []).map((g) => `group:${g}`),
        ].join(",") || "all",
        String(c.version ?? ""),
        String(c.updated_at ?? ""),
      ]),
    ),
  );
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8"));
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`, 2);
  }
}

/**
 * `--set key=value`: JSON values where they parse (true, 3, ["a"]), strings otherwise;
 * `--set-string key=value`: always the string (a log group named `12` stays "12").
 */
export function parseAssignments(pairs: string[], strings: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const split = (pair: string, option: string) => {
    const i = pair.indexOf("=");
    if (i <= 0) throw new CliError(`${option} takes key=value, got ${JSON.stringify(pair)}`, 2);
    return [pair.slice(0, i), pair.slice(i + 1)] as const;
  };
  for (const pair of pairs) {
    const [key, raw] = split(pair, "--set");
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[key] = value;
  }
  for (const pair of strings) {
    const [key, raw] = split(pair, "--set-string");
    out[key] = raw;
  }
  return out;
}

const versionOf = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`--version must be a whole number, got ${text}`, 2);
  return n;
};

/** One example per tenants command, shown by its --help. */
const TENANT_EXAMPLES: Record<string, string> = {
  list: "logrelay tenants list --api-url https://abc123.execute-api.us-east-1.amazonaws.com/prod -o json",
  get: "logrelay tenants get acme cloudwatch --table logrelay-prod-us-east-1-tenant-configs",
  put: "logrelay tenants put acme --file onboarding/acme-cloudwatch.json --dry-run",
  patch:
    "logrelay tenants patch acme cloudwatch --set enabled=false --set-string log_group_name=12 --version 3",
  delete: "logrelay tenants delete acme s3 --version 2",
  validate: "logrelay tenants validate acme cloudwatch",
  unregister: "logrelay tenants unregister acme --dry-run",
  "registry list": "logrelay tenants registry list -o yaml",
};

export function registerTenants(program: Command, io: CliIo): void {
  const tenants = program
    .command("tenants")
    .description(
      "Manage tenants' delivery configs through the tenant-config API (or the table directly with --table)",
    );
  const connect = (cmd: Command) =>
    cmd
      .option("--api-url <url>", "tenant API base URL (default LOGRELAY_API_URL); requests are SigV4-signed")
      .option("--table <name>", "talk to this DynamoDB table directly (default TENANT_CONFIG_TABLE)")
      .option(
        "--registry-table <name>",
        "with --table: the tenant registry table (default TENANT_REGISTRY_TABLE)",
      )
      .addOption(outputOption());
  /** Writes take --dry-run: the request is checked and shown, nothing is sent. */
  const write = (cmd: Command) =>
    connect(cmd.option("--dry-run", "check the request and show it; send nothing"));
  /**
   * The command's transport, set up on its first call (one per command run). With --dry-run, a
   * write is checked (a config body against the API's own schema) and printed instead of sent.
   */
  const api = (o: ConnectionOptions): ApiTransport => {
    let transport: Promise<ApiTransport> | undefined;
    return async (req) => {
      if (o.dryRun && req.method !== "GET") {
        const body = req.body === undefined ? undefined : (JSON.parse(req.body) as Record<string, unknown>);
        if (
          body &&
          (req.method === "POST" || req.method === "PUT") &&
          req.path.includes("/delivery-configs")
        ) {
          const { version: _v, ...config } = body;
          const checked = WritableConfigSchema.safeParse(config);
          if (!checked.success)
            throw new CliError(`the config would be refused: ${describeIssues(checked.error).join("; ")}`, 2);
        }
        const request = { dry_run: true, method: req.method, path: req.path, ...(body && { body }) };
        io.stdout.write(
          o.output === "table"
            ? `would ${req.method} ${req.path}${body ? ` ${JSON.stringify(body)}` : ""}\n`
            : structured(o.output, request),
        );
        throw new CliError("dry run: nothing was sent", 0);
      }
      transport ??= transportFor(o, io);
      return (await transport)(req);
    };
  };

  connect(
    tenants
      .command("list")
      .description("list delivery configs: all tenants (every page), or one with --tenant"),
  )
    .option("--tenant <id>", "only this tenant")
    .action(async (o: ConnectionOptions & { tenant?: string }) => {
      const call = api(o);
      if (o.tenant) {
        const reply = expectOk(
          await call({
            method: "GET",
            path: `/tenants/${encodeURIComponent(o.tenant)}/delivery-configs`,
            query: {},
          }),
        );
        printConfigs(io, o.output, reply.body.items);
        return;
      }
      const items: ConfigRow[] = [];
      let cursor: string | undefined;
      do {
        const reply = expectOk(
          await call({
            method: "GET",
            path: "/delivery-configs",
            query: { limit: "100", ...(cursor && { cursor }) },
          }),
        );
        items.push(...reply.body.items);
        cursor = reply.body.cursor;
        if (cursor && o.output === "table") io.stderr.write(`... ${items.length} configs so far\n`);
      } while (cursor);
      printConfigs(io, o.output, items);
    });

  connect(
    tenants
      .command("get")
      .description("show one delivery config")
      .argument("<tenant>")
      .argument("<type>", DELIVERY_TYPE_CHOICES),
  ).action(async (tenant: string, type: string, o: ConnectionOptions) => {
    const reply = expectOk(
      await api(o)({
        method: "GET",
        path: `/tenants/${encodeURIComponent(tenant)}/delivery-configs/${encodeURIComponent(type)}`,
        query: {},
      }),
    );
    printConfigs(io, o.output, [reply.body], true);
  });

  write(
    tenants
      .command("put")
      .description("create a delivery config from a JSON file; with --version, replace the existing one")
      .argument("<tenant>")
      .requiredOption("--file <path>", "JSON config (- for stdin)")
      .option("--version <n>", "version you read (replace instead of create)"),
  ).action(async (tenant: string, o: ConnectionOptions & { file: string; version?: string }) => {
    const body = readJson(o.file) as Record<string, unknown>;
    const version = versionOf(o.version);
    const path = `/tenants/${encodeURIComponent(tenant)}/delivery-configs`;
    const reply =
      version === undefined
        ? expectOk(await api(o)({ method: "POST", path, query: {}, body: JSON.stringify(body) }), [201])
        : expectOk(
            await api(o)({
              method: "PUT",
              path: `${path}/${encodeURIComponent(String(body.type))}`,
              query: {},
              body: JSON.stringify({ ...body, version }),
            }),
          );
    printConfigs(io, o.output, [reply.body], true);
  });

  write(
    tenants
      .command("patch")
      .description("change fields of a delivery config")
      .argument("<tenant>")
      .argument("<type>")
      .option(
        "--set <key=value...>",
        "fields to change, e.g. --set enabled=false --set 'groups=[\"API\"]'",
        [],
      )
      .option(
        "--set-string <key=value...>",
        "fields to change, always as strings, e.g. --set-string log_group_name=12",
        [],
      )
      .requiredOption("--version <n>", "version you read (get shows it)"),
  ).action(
    async (
      tenant: string,
      type: string,
      o: ConnectionOptions & { set: string[]; setString: string[]; version: string },
    ) => {
      const changes = parseAssignments(o.set, o.setString);
      if (Object.keys(changes).length === 0) throw new CliError("nothing to change: pass --set key=value", 2);
      const reply = expectOk(
        await api(o)({
          method: "PATCH",
          path: `/tenants/${encodeURIComponent(tenant)}/delivery-configs/${encodeURIComponent(type)}`,
          query: {},
          body: JSON.stringify({ ...changes, version: versionOf(o.version) }),
        }),
      );
      printConfigs(io, o.output, [reply.body], true);
    },
  );

  write(
    tenants
      .command("delete")
      .description("delete a delivery config")
      .argument("<tenant>")
      .argument("<type>")
      .option("--version <n>", "only if still at this version"),
  ).action(async (tenant: string, type: string, o: ConnectionOptions & { version?: string }) => {
    const version = versionOf(o.version);
    expectOk(
      await api(o)({
        method: "DELETE",
        path: `/tenants/${encodeURIComponent(tenant)}/delivery-configs/${encodeURIComponent(type)}`,
        query: version === undefined ? {} : { version: String(version) },
      }),
      [204],
    );
    io.stdout.write(
      o.output === "table"
        ? `deleted ${tenant}/${type}\n`
        : structured(o.output, { deleted: { tenant_id: tenant, type } }),
    );
  });

  connect(
    tenants
      .command("validate")
      .description(
        "check a config works without sending logs: assume the customer role, reach the log group or bucket",
      )
      .argument("<tenant>")
      .argument("<type>"),
  ).action(async (tenant: string, type: string, o: ConnectionOptions) => {
    if (!(o.apiUrl ?? io.env.LOGRELAY_API_URL) && !io.env.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN) {
      throw new CliError(
        "validate with --table needs CENTRAL_LOG_DISTRIBUTION_ROLE_ARN (the role the distributor assumes first)",
        2,
      );
    }
    const reply = expectOk(
      await api(o)({
        method: "POST",
        path: `/tenants/${encodeURIComponent(tenant)}/delivery-configs/${encodeURIComponent(type)}/validate`,
        query: {},
      }),
    );
    const result = reply.body as {
      ok: boolean;
      checks: { check: string; ok: boolean; detail: string; hint?: string }[];
    };
    if (o.output !== "table") io.stdout.write(structured(o.output, result));
    else {
      for (const c of result.checks) {
        io.stdout.write(
          `${c.ok ? "ok  " : "FAIL"} ${c.check}: ${c.detail}\n${c.hint && !c.ok ? `     fix: ${c.hint}\n` : ""}`,
        );
      }
    }
    if (!result.ok)
      throw new CliError(
        `${tenant}/${type} does not validate: ${result.checks
          .filter((c) => !c.ok)
          .map((c) => c.check)
          .join(", ")}`,
      );
  });

  write(
    tenants
      .command("register")
      .description(
        "register a tenant (platform admins): the accounts its logs may go to, and the clusters that may carry them",
      )
      .argument("<tenant>")
      .addHelpText(
        "after",
        "\nExamples:\n  logrelay tenants register acme --account 111111111111 --api-url URL\n" +
          "  logrelay tenants register acme --account 111111111111 --account 222222222222 --clusters rosa-1,rosa-2 --table T --registry-table R",
      ),
  )
    .requiredOption("--account <id>", "a 12-digit account id (repeat for several)", collect, [])
    .option("--clusters <ids>", "only these clusters may carry the tenant's logs (comma-separated)")
    .action(async (tenant: string, o: ConnectionOptions & { account: string[]; clusters?: string }) => {
      const clusters = o.clusters
        ?.split(",")
        .map((c) => c.trim())
        .filter((c) => c !== "");
      const reply = expectOk(
        await api(o)({
          method: "PUT",
          path: `/registry/${encodeURIComponent(tenant)}`,
          query: {},
          body: JSON.stringify({ accounts: o.account, ...(clusters && { clusters }) }),
        }),
      );
      printRegistrations(io, o.output, [reply.body], true);
    });

  write(
    tenants
      .command("unregister")
      .description("remove a tenant's registration: its logs go nowhere until registered again")
      .argument("<tenant>"),
  ).action(async (tenant: string, o: ConnectionOptions) => {
    expectOk(
      await api(o)({ method: "DELETE", path: `/registry/${encodeURIComponent(tenant)}`, query: {} }),
      [204],
    );
    io.stdout.write(
      o.output === "table" ? `unregistered ${tenant}\n` : structured(o.output, { unregistered: tenant }),
    );
  });

  connect(
    tenants
      .command("registry")
      .command("list")
      .description("list registered tenants, their accounts and clusters"),
  ).action(async (o: ConnectionOptions) => {
    const call = api(o);
    const items: Registration[] = [];
    let cursor: string | undefined;
    do {
      const reply = expectOk(
        await call({ method: "GET", path: "/registry", query: { limit: "100", ...(cursor && { cursor }) } }),
      );
      items.push(...reply.body.items);
      cursor = reply.body.cursor;
    } while (cursor);
    printRegistrations(io, o.output, items);
  });
  for (const [name, example] of Object.entries(TENANT_EXAMPLES)) {
    const [first, second] = name.split(" ");
    const group = tenants.commands.find((c) => c.name() === first);
    (second ? group?.commands.find((c) => c.name() === second) : group)?.addHelpText(
      "after",
      `\nExample: ${example}`,
    );
  }
}

interface Registration {
  tenant_id: string;
  accounts: string[];
  clusters?: string[];
  updated_at?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function printRegistrations(io: CliIo, output: OutputFormat, items: Registration[], one = false): void {
  if (output !== "table") {
    io.stdout.write(structured(output, one ? items[0] : items));
    return;
  }
  io.stdout.write(
    table(
      ["TENANT", "ACCOUNTS", "CLUSTERS", "UPDATED"],
      items.map((r) => [
        r.tenant_id,
        r.accounts.join(","),
        r.clusters?.join(",") ?? "(any)",
        r.updated_at ?? "",
      ]),
    ),
  );
}
