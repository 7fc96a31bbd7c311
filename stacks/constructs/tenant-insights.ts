import { CloudwatchContributorInsightRule } from "@cdktf/provider-aws/lib/cloudwatch-contributor-insight-rule";
import { Construct } from "constructs";

export interface TenantInsightsProps {
  /** Rule names start with this (logrelay-<env>-<region>). */
  readonly prefix: string;
  /** Log groups of the distributor: one JSON line per object with tenant_id, outcome and totals. */
  readonly logGroupNames: string[];
}

export type TenantInsight = "events" | "bytes" | "failures";

const FAILED_OUTCOMES = ["failed_transient", "failed_permanent"];

/** The object line field each ranking sums (or, for failures, the lines it counts). */
const RULES: Record<
  TenantInsight,
  { title: string; contribution: Record<string, unknown>; aggregateOn: "Sum" | "Count" }
> = {
  events: {
    title: "Top tenants by events delivered",
    aggregateOn: "Sum",
    contribution: {
      Keys: ["$.tenant_id"],
      ValueOf: "$.events_delivered",
      Filters: [{ Match: "$.events_delivered", GreaterThan: 0 }],
    },
  },
  bytes: {
    title: "Top tenants by bytes delivered",
    aggregateOn: "Sum",
    contribution: {
      Keys: ["$.tenant_id"],
      ValueOf: "$.bytes_delivered",
      Filters: [{ Match: "$.bytes_delivered", GreaterThan: 0 }],
    },
  },
  failures: {
    title: "Top tenants by delivery failures",
    aggregateOn: "Count",
    contribution: { Keys: ["$.tenant_id"], Filters: [{ Match: "$.outcome", In: FAILED_OUTCOMES }] },
  },
};

/**
 * Per-tenant figures without per-tenant metrics: CloudWatch Contributor Insights rules over the
 * distributor's log lines rank tenants by events, bytes and failed deliveries. A rule costs $0.50
 * a month plus $0.02 per million matching lines (one line per object), whatever the number of
 * tenants, where per-tenant metrics cost $0.30 per metric and tenant.
 */
export class TenantInsights extends Construct {
  readonly rules: Record<TenantInsight, CloudwatchContributorInsightRule>;

  constructor(scope: Construct, id: string, props: TenantInsightsProps) {
    super(scope, id);
    const rule = (name: TenantInsight) =>
      new CloudwatchContributorInsightRule(this, name, {
        ruleName: `${props.prefix}-tenants-by-${name}`,
        ruleState: "ENABLED",
        ruleDefinition: JSON.stringify({
          Schema: { Name: "CloudWatchLogRule", Version: 1 },
          LogGroupNames: props.logGroupNames,
          LogFormat: "JSON",
          Contribution: RULES[name].contribution,
          AggregateOn: RULES[name].aggregateOn,
        }),
      });
    this.rules = { events: rule("events"), bytes: rule("bytes"), failures: rule("failures") };
  }

  /** Dashboard panels: title -> rule name, for the dashboard's Contributor Insights widgets. */
  widgets(): Record<string, string> {
    return Object.fromEntries(
      (Object.keys(this.rules) as TenantInsight[]).map((k) => [RULES[k].title, this.rules[k].ruleName]),
    );
  }
}
