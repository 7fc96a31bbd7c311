import { type IAspect, TerraformResource, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";

/**
 * Every change of a Terraform address or a setting's name, in one place. A resource whose address
 * changed gets a `moved` block from its old address, so the next apply keeps its state instead of
 * replacing it; an old setting name is read as the new one. Each entry says the release whose
 * addresses it maps and the release it can be dropped in: once every state has been applied with a
 * release that has the entry, Terraform has moved it and the entry does nothing.
 */
export interface Migration {
  /** The release whose addresses (or setting names) this maps. */
  readonly from: string;
  /** The first release that may drop it. */
  readonly dropIn: string;
  readonly why: string;
}

/** A group of address moves in one kind of stack: current construct path -> old address. */
interface AddressMoves extends Migration {
  readonly stack: "regional" | "cluster";
  /** Current construct path below the stack ("notifications/queue") -> the address it had. */
  readonly moves: Readonly<Record<string, string>>;
  /** Or a rule: old address of a resource at a path matching `path`. */
  readonly rule?: { readonly path: RegExp; readonly oldAddress: (type: string, ids: string[]) => string };
}

const SINCE_0_1_0 = { from: "0.1.0", dropIn: "0.3.0" } as const;

export const ADDRESS_MOVES: readonly AddressMoves[] = [
  {
    ...SINCE_0_1_0,
    stack: "regional",
    why: "the tenant API's routes were numbered by position; they are named by route key",
    moves: {
      "tenant-api-http/route-get-delivery-configs": "aws_apigatewayv2_route.tenant-api-http_route-0_1EEA2DB4",
      "tenant-api-http/route-get-tenants-tenant_id-delivery-configs":
        "aws_apigatewayv2_route.tenant-api-http_route-1_5EC1DCB6",
      "tenant-api-http/route-post-tenants-tenant_id-delivery-configs":
        "aws_apigatewayv2_route.tenant-api-http_route-2_3FC7497C",
      "tenant-api-http/route-get-tenants-tenant_id-delivery-configs-type":
        "aws_apigatewayv2_route.tenant-api-http_route-3_5DF95EA6",
      "tenant-api-http/route-put-tenants-tenant_id-delivery-configs-type":
        "aws_apigatewayv2_route.tenant-api-http_route-4_EA73284B",
      "tenant-api-http/route-patch-tenants-tenant_id-delivery-configs-type":
        "aws_apigatewayv2_route.tenant-api-http_route-5_8E5D2BDA",
      "tenant-api-http/route-delete-tenants-tenant_id-delivery-configs-type":
        "aws_apigatewayv2_route.tenant-api-http_route-6_FAE4722C",
      "tenant-api-http/route-post-tenants-tenant_id-delivery-configs-type-validate":
        "aws_apigatewayv2_route.tenant-api-http_route-7_031748BB",
      "tenant-api-http/route-get-registry": "aws_apigatewayv2_route.tenant-api-http_route-8_FC8002C4",
      "tenant-api-http/route-get-registry-tenant_id":
        "aws_apigatewayv2_route.tenant-api-http_route-9_A7077B88",
      "tenant-api-http/route-put-registry-tenant_id":
        "aws_apigatewayv2_route.tenant-api-http_route-10_EE1A1129",
      "tenant-api-http/route-delete-registry-tenant_id":
        "aws_apigatewayv2_route.tenant-api-http_route-11_665D2BC2",
    },
  },
  {
    ...SINCE_0_1_0,
    stack: "regional",
    why: "the bucket's notifications (topic, queue and DLQ, policies, subscription) became one construct",
    moves: {
      "notifications/topic": "aws_sns_topic.objects-topic",
      "notifications/topic-policy": "aws_sns_topic_policy.objects-topic-policy",
      "notifications/bucket-notification": "aws_s3_bucket_notification.staging-notification",
      "notifications/queue/queue": "aws_sqs_queue.delivery_queue_78B7C0B9",
      "notifications/queue/dlq": "aws_sqs_queue.delivery_dlq_2E70849F",
      "notifications/queue-policy": "aws_sqs_queue_policy.delivery-queue-policy",
      "notifications/subscription": "aws_sns_topic_subscription.delivery-subscription",
    },
  },
  {
    ...SINCE_0_1_0,
    stack: "regional",
    why: "the alarm topic, alarms and dashboard moved from the stack into the monitoring construct",
    moves: {},
    // Resources directly in the stack have their id as address; these were there, by the same id.
    rule: {
      path: /^monitoring\/(alarm-topic|alarm-email|dashboard|distributor-errors|distributor-throttles|dlq-not-empty|firehose-data-freshness|firehose-error-output|firehose-partition-limit|firehose-throttled|freshness-.+|oldest-message-age|parked-objects-lost|permanent-delivery-failures|quarantined-events|registry-refusals)$/,
      oldAddress: (type, ids) => `${type}.${ids[1]}`,
    },
  },
  {
    ...SINCE_0_1_0,
    stack: "cluster",
    why: "the in-cluster distributor was called processor; the collector role's policies were numbered",
    moves: {
      "distributor/role": "aws_iam_role.processor_role_2630A70E",
      "distributor/inline": "aws_iam_role_policy.processor_inline_C268305B",
      "collector/policy-collector-writer": "aws_iam_role_policy_attachment.collector_policy-0_F0BC4AF6",
      "distributor-sa": "kubernetes_service_account_v1.processor-sa",
      "distributor-deployment": "kubernetes_manifest.processor-deployment",
      "distributor-keda-triggerauthentication": "kubernetes_manifest.processor-keda-0",
      "distributor-keda-scaledobject": "kubernetes_manifest.processor-keda-1",
    },
  },
];

/** Construct ids from the stack down to `node` (what the stack turns into its address). */
function idsBelowStack(node: IConstruct): string[] {
  const scopes = node.node.scopes;
  const stack = scopes.findIndex((s) => TerraformStack.isStack(s));
  return scopes.slice(stack + 1).map((s) => s.node.id);
}

/** The address a resource had, if a migration moves it. */
export function oldAddress(stack: AddressMoves["stack"], type: string, ids: string[]): string | undefined {
  const path = ids.join("/");
  for (const m of ADDRESS_MOVES) {
    if (m.stack !== stack) continue;
    const from = m.moves[path] ?? (m.rule?.path.test(path) ? m.rule.oldAddress(type, ids) : undefined);
    if (from?.startsWith(`${type}.`)) return from;
  }
  return undefined;
}

/** Adds the `moved` blocks of ADDRESS_MOVES to the resources of one stack. */
export class AddressMigrations implements IAspect {
  constructor(private readonly stack: AddressMoves["stack"]) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource)) return;
    const from = oldAddress(this.stack, node.terraformResourceType, idsBelowStack(node));
    if (from) node.moveFromId(from);
  }
}

/** Setting names of environment files that changed, read as the new names. */
export const SETTING_RENAMES: readonly (Migration & { readonly apply: (cluster: unknown) => unknown })[] = [
  {
    ...SINCE_0_1_0,
    why: "clusters[].processor is now clusters[].distributor",
    apply: (value) => {
      if (typeof value !== "object" || value === null || !("processor" in value) || "distributor" in value)
        return value;
      const { processor, ...rest } = value as Record<string, unknown>;
      return { ...rest, distributor: processor };
    },
  },
];

/** A cluster entry of an environment file with every renamed setting read under its new name. */
export const migrateClusterSettings = (cluster: unknown): unknown =>
  SETTING_RENAMES.reduce((value, rename) => rename.apply(value), cluster);
