import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { DELIVERY_TYPE_CHOICES } from "../../functions/shared/delivery-config";
import type { AuditEntry, StoredRegistration } from "../../functions/tenant-api/ports";
import type { ListedConfig } from "../../functions/tenant-api/routes";
import { type ApiConnection, apiClient, type DryRun, isDryRun } from "../api-client";
import { type OutputFormat, outputOption, structured } from "../context";
import { CliError, type CliIo, table } from "../io";
import {
  configTarget,
  deleteConfig,
  getConfig,
  history,
  listConfigs,
  parseAssignments,
  patchConfig,
  putConfig,
  register,
  registrations,
  unregister,
  validateConfig,
} from "../tenants";

export interface ConnectionOptions extends ApiConnection {
  output: OutputFormat;
  dryRun?: boolean;
}

/** `one`: a command about one item prints an object, not a list of one. */
function printConfigs(io: CliIo, output: OutputFormat, configs: ListedConfig[], one = false): void {
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
        configTarget(c),
        c.target_region ?? "(default)",
        [...c.desired_logs, ...c.groups.map((g) => `group:${g}`)].join(",") || "all",
        String(c.version ?? ""),
        c.updated_at ?? "",
      ]),
    ),
  );
}

function printRegistrations(io: CliIo, output: OutputFormat, items: StoredRegistration[], one = false): void {
  if (output !== "table") {
    io.stdout.write(structured(output, one ? items[0] : items));
    return;
  }
  io.stdout.write(
    table(
      ["TENANT", "ACCOUNTS", "CLUSTERS", "UPDATED"],
      items.map((r) => [r.tenant_id, r.accounts.join(","), r.clusters?.join(",") ?? "(any)", r.updated_at]),
    ),
  );
}

/** What changed between two versions of an item, as `field: before -> after`. */
function changed(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): string {
  if (!before) return "created";
  if (!after) return "removed";
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => !["updated_at", "version"].includes(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  return (
    keys
      .map((k) => `${k}: ${JSON.stringify(before[k] ?? null)} -> ${JSON.stringify(after[k] ?? null)}`)
      .join("; ") || "(no field)"
  );
}

function printHistory(io: CliIo, output: OutputFormat, entries: AuditEntry[]): void {
  if (output !== "table") {
    io.stdout.write(structured(output, entries));
    return;
  }
  io.stdout.write(
    entries.length === 0
      ? "no changes recorded\n"
      : table(
          ["AT", "ACTOR", "ACTION", "TARGET", "CHANGE"],
          entries.map((e) => [e.at, e.actor, e.action, e.target, changed(e.before, e.after)]),
        ),
  );
}

/** A write not sent: the request shown, and said so (exit 0). */
function printDryRun(io: CliIo, output: OutputFormat, { dryRun }: DryRun): void {
  const { method, path, body } = dryRun;
  io.stdout.write(
    output === "table"
      ? `would ${method} ${path}${body === undefined ? "" : ` ${JSON.stringify(body)}`}\n`
      : structured(output, { dry_run: true, method, path, ...(body !== undefined && { body }) }),
  );
  io.stderr.write("dry run: nothing was sent\n");
}

function readJson(path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8"));
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`, 2);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new CliError(`${path} must hold one JSON object (a delivery config)`, 2);
  return doc as Record<string, unknown>;
}

const versionOf = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`--version must be a whole number, got ${text}`, 2);
  return n;
};

const collect = (value: string, previous: string[]) => [...previous, value];

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
  history: "logrelay tenants history acme -o json",
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
      .option(
        "--audit-table <name>",
        "with --table: the audit trail, where every change is recorded (default AUDIT_TABLE)",
      )
      .addOption(outputOption());
  /** Writes take --dry-run: the request is checked and shown, nothing is sent. */
  const write = (cmd: Command) =>
    connect(cmd.option("--dry-run", "check the request and show it; send nothing"));
  /** Prints a write's reply with `print`, or the request a dry run did not send. */
  const written = <T>(o: ConnectionOptions, reply: T | DryRun, print: (value: T) => void) =>
    isDryRun(reply) ? printDryRun(io, o.output, reply) : print(reply);

  connect(
    tenants
      .command("list")
      .description("list delivery configs: all tenants (every page), or one with --tenant"),
  )
    .option("--tenant <id>", "only this tenant")
    .action(async (o: ConnectionOptions & { tenant?: string }) => {
      const progress = (count: number, more: boolean) => {
        if (more && o.output === "table") io.stderr.write(`... ${count} configs so far\n`);
      };
      printConfigs(io, o.output, await listConfigs(apiClient(o, io), o.tenant, progress));
    });

  connect(
    tenants
      .command("get")
      .description("show one delivery config")
      .argument("<tenant>")
      .argument("<type>", DELIVERY_TYPE_CHOICES),
  ).action(async (tenant: string, type: string, o: ConnectionOptions) => {
    printConfigs(io, o.output, [await getConfig(apiClient(o, io), tenant, type)], true);
  });

  write(
    tenants
      .command("put")
      .description("create a delivery config from a JSON file; with --version, replace the existing one")
      .argument("<tenant>")
      .requiredOption("--file <path>", "JSON config (- for stdin)")
      .option("--version <n>", "version you read (replace instead of create)"),
  ).action(async (tenant: string, o: ConnectionOptions & { file: string; version?: string }) => {
    const reply = await putConfig(apiClient(o, io), tenant, readJson(o.file), versionOf(o.version));
    written(o, reply, (config) => printConfigs(io, o.output, [config], true));
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
      const reply = await patchConfig(apiClient(o, io), tenant, type, changes, versionOf(o.version)!);
      written(o, reply, (config) => printConfigs(io, o.output, [config], true));
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
    const reply = await deleteConfig(apiClient(o, io), tenant, type, versionOf(o.version));
    written(o, reply, () =>
      io.stdout.write(
        o.output === "table"
          ? `deleted ${tenant}/${type}\n`
          : structured(o.output, { deleted: { tenant_id: tenant, type } }),
      ),
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
    const result = await validateConfig(apiClient(o, io), tenant, type);
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
      const reply = await register(apiClient(o, io), tenant, o.account, clusters);
      written(o, reply, (registration) => printRegistrations(io, o.output, [registration], true));
    });

  write(
    tenants
      .command("unregister")
      .description("remove a tenant's registration: its logs go nowhere until registered again")
      .argument("<tenant>"),
  ).action(async (tenant: string, o: ConnectionOptions) => {
    const reply = await unregister(apiClient(o, io), tenant);
    written(o, reply, () =>
      io.stdout.write(
        o.output === "table" ? `unregistered ${tenant}\n` : structured(o.output, { unregistered: tenant }),
      ),
    );
  });

  connect(
    tenants
      .command("history")
      .description(
        "who changed a tenant's delivery configs or registration, when, from what to what (newest first)",
      )
      .argument("<tenant>"),
  ).action(async (tenant: string, o: ConnectionOptions) => {
    printHistory(io, o.output, await history(apiClient(o, io), tenant));
  });

  connect(
    tenants
      .command("registry")
      .command("list")
      .description("list registered tenants, their accounts and clusters"),
  ).action(async (o: ConnectionOptions) => {
    printRegistrations(io, o.output, await registrations(apiClient(o, io)));
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
