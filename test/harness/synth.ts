import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { App, type TerraformStack, Testing } from "cdktf";
import { type Environment, parseEnvironment } from "../../stacks/config";
import type { PolicyDocument } from "../../stacks/constructs/iam";

// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON is untyped; tests assert its shape
type Untyped = any;
export type TfJson = {
  resource: Record<string, Record<string, Untyped>>;
  output?: Record<string, unknown>;
  terraform?: Untyped;
  provider?: Untyped;
};

const SYNTH_DIR = join(__dirname, "..", "..", ".tmp", "synth-tests");

export const testApp = () => {
  mkdirSync(SYNTH_DIR, { recursive: true });
  return new App({ outdir: SYNTH_DIR });
};

export function synth(stack: TerraformStack): TfJson {
  return JSON.parse(Testing.synth(stack)) as TfJson;
}

/** The one resource of a type (fails if there are several), or all of them by name. */
export function only(json: TfJson, type: string) {
  const all = Object.values(json.resource[type] ?? {});
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** The one resource of a type whose `field` ends with `suffix`. */
export function named(json: TfJson, type: string, field: string, suffix: string) {
  const matches = Object.values(all(json, type)).filter((r) => String(r[field]).endsWith(suffix));
  if (matches.length !== 1)
    throw new Error(`expected one ${type} with ${field} ending ${suffix}, found ${matches.length}`);
  return matches[0];
}

/** A Terraform reference `${type.address.attribute}` to the one resource of a type whose `field` ends with `suffix`. */
export function ref(json: TfJson, type: string, field: string, suffix: string, attribute: string): string {
  const matches = Object.entries(all(json, type)).filter(([, r]) => String(r[field]).endsWith(suffix));
  if (matches.length !== 1)
    throw new Error(`expected one ${type} with ${field} ending ${suffix}, found ${matches.length}`);
  return `\${${type}.${matches[0]![0]}.${attribute}}`;
}

export function all(json: TfJson, type: string) {
  return json.resource[type] ?? {};
}

/** Every IAM document in a stack: [where, parsed document]. */
export function policyDocuments(json: TfJson): [string, PolicyDocument][] {
  const docs: [string, PolicyDocument][] = [];
  for (const [type, byName] of Object.entries(json.resource)) {
    for (const [name, body] of Object.entries(byName)) {
      for (const field of ["policy", "assume_role_policy"]) {
        if (typeof body[field] === "string" && body[field].startsWith("{")) {
          docs.push([`${type}.${name}.${field}`, JSON.parse(body[field]) as PolicyDocument]);
        }
      }
    }
  }
  return docs;
}

export const env = (overrides: Record<string, unknown> = {}): Environment =>
  parseEnvironment(
    {
      name: "test",
      account_id: "123456789012",
      regions: ["us-east-1"],
      customers: [
        {
          tenant_id: "acme",
          account_id: "111111111111",
          external_id: "acme-ext-1",
          bucket: { name: "acme-logs", prefix: "logs/" },
        },
        { tenant_id: "globex", account_id: "222222222222", external_id: "globex-ext-2" },
      ],
      ...overrides,
    },
    "test",
  );
