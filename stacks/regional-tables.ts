import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import type { TerraformStack } from "cdktf";
import { LEDGER_PARKED_INDEX, LEDGER_TABLE } from "../functions/shared/contract";
import { AUDIT_SORT_KEY } from "../functions/tenant-api/adapters/dynamodb-repository";
import type { Environment } from "./config";
import type { RegionalResourceNames } from "./naming";

/**
 * The regional stack's tables: tenant configs (tenants edit them through the API), the tenant
 * registry (platform admins), the delivery ledger (claims, checkpoints, parked deliveries), the
 * audit trail of changes to configs and registrations. Created in the stack's
 * own scope, so their addresses are `aws_dynamodb_table.<id>`.
 */
export function regionalTables(
  scope: TerraformStack,
  env: Environment,
  r: RegionalResourceNames,
  key: { readonly arn: string },
) {
  const sse = { enabled: true, kmsKeyArn: key.arn };
  const configTable = new DynamodbTable(scope, "tenant-configs", {
    name: r.configTable,
    billingMode: "PAY_PER_REQUEST",
    hashKey: "tenant_id",
    rangeKey: "type",
    attribute: [
      { name: "tenant_id", type: "S" },
      { name: "type", type: "S" },
    ],
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: sse,
    ttl: { attributeName: "ttl", enabled: true },
    deletionProtectionEnabled: !env.emulator,
  });
  // The platform's record of which accounts (and clusters) each tenant's logs may use.
  const registryTable = new DynamodbTable(scope, "tenant-registry", {
    name: r.registryTable,
    billingMode: "PAY_PER_REQUEST",
    hashKey: "tenant_id",
    attribute: [{ name: "tenant_id", type: "S" }],
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: sse,
    deletionProtectionEnabled: !env.emulator,
  });
  const ledgerTable = new DynamodbTable(scope, "delivery-ledger", {
    name: r.ledgerTable,
    billingMode: "PAY_PER_REQUEST",
    hashKey: LEDGER_TABLE.hashKey,
    attribute: [
      { name: LEDGER_TABLE.hashKey, type: "S" },
      { name: LEDGER_PARKED_INDEX.hashKey, type: "S" },
      { name: LEDGER_PARKED_INDEX.rangeKey, type: "S" },
    ],
    // Sparse: only parked and lost deliveries and destination records carry these keys.
    globalSecondaryIndex: [
      {
        name: LEDGER_PARKED_INDEX.name,
        hashKey: LEDGER_PARKED_INDEX.hashKey,
        rangeKey: LEDGER_PARKED_INDEX.rangeKey,
        projectionType: "ALL",
      },
    ],
    // Losing the ledger means duplicates: every claim and checkpoint would be forgotten.
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: sse,
    ttl: { attributeName: LEDGER_TABLE.ttlAttribute, enabled: true },
    deletionProtectionEnabled: !env.emulator,
  });
  // The audit trail: who changed which config or registration, when, from what to what. Only the
  // tenant API appends to it (its role may not update or delete it); PITR like the others.
  const auditTable = new DynamodbTable(scope, "tenant-audit", {
    name: r.auditTable,
    billingMode: "PAY_PER_REQUEST",
    hashKey: "tenant_id",
    rangeKey: AUDIT_SORT_KEY,
    attribute: [
      { name: "tenant_id", type: "S" },
      { name: AUDIT_SORT_KEY, type: "S" },
    ],
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: sse,
    ttl: { attributeName: "ttl", enabled: true },
    deletionProtectionEnabled: !env.emulator,
  });
  return { configTable, registryTable, ledgerTable, auditTable };
}
