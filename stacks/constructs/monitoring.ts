import { CloudwatchCompositeAlarm } from "@cdktf/provider-aws/lib/cloudwatch-composite-alarm";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmConfig,
} from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { S3BucketMetric } from "@cdktf/provider-aws/lib/s3-bucket-metric";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";

/** What an alarm must say; everything else has a default (5-minute Sum above 0, missing = OK). */
export type AlarmSpec = Pick<CloudwatchMetricAlarmConfig, "alarmDescription" | "namespace" | "metricName"> &
  Partial<
    Pick<
      CloudwatchMetricAlarmConfig,
      | "dimensions"
      | "statistic"
      | "extendedStatistic"
      | "period"
      | "evaluationPeriods"
      | "threshold"
      | "comparisonOperator"
      | "treatMissingData"
      | "datapointsToAlarm"
    >
  >;

/** A composite alarm: in ALARM while any of its alarms (by id in `alarms`) is. */
export interface CompositeSpec {
  readonly alarmDescription: string;
  readonly anyOf: readonly string[];
}

/** Alarms one composite names at most; more are split into parts it names instead. */
export const COMPOSITE_FAN_IN = 90;

export interface MonitoringProps {
  /** Names start with it: `<prefix>-<alarm id>`, dashboard `<prefix>`. */
  readonly prefix: string;
  /** The alarm topic's name (functions that publish to it know it by name). */
  readonly topicName: string;
  readonly region: string;
  readonly kmsKey: { readonly arn: string };
  /** Subscribed to the alarm topic when set. */
  readonly alarmEmail?: string;
  /** Alarms, by id (the id is the address and the name's suffix). */
  readonly alarms: Readonly<Record<string, AlarmSpec>>;
  /** Dashboard widgets: title -> metric rows (CloudWatch's `metrics` arrays). */
  readonly widgets: Readonly<Record<string, unknown[][]>>;
  /** Widgets of metric-math expressions (e.g. top N by a SEARCH): title -> expression. */
  readonly expressionWidgets?: Readonly<Record<string, string>>;
  /** Composite alarms over the alarms above, by id (the id is the address and the name's suffix). */
  readonly composites?: Readonly<Record<string, CompositeSpec>>;
  /** Widgets of Contributor Insights rules (their top 10 contributors): title -> rule name. */
  readonly insightWidgets?: Readonly<Record<string, string>>;
  readonly provider?: TerraformProvider;
}

/**
 * The alarm topic (and its e-mail subscription), one alarm per spec with shared defaults, and a
 * dashboard. Alarms notify on ALARM and on OK.
 */
export class Monitoring extends Construct {
  readonly alarmTopic: SnsTopic;
  readonly alarms: Record<string, CloudwatchMetricAlarm> = {};

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const provider = props.provider;
    this.alarmTopic = new SnsTopic(this, "alarm-topic", {
      name: props.topicName,
      kmsMasterKeyId: props.kmsKey.arn,
      provider,
    });
    if (props.alarmEmail) {
      new SnsTopicSubscription(this, "alarm-email", {
        topicArn: this.alarmTopic.arn,
        protocol: "email",
        endpoint: props.alarmEmail,
        provider,
      });
    }
    for (const [alarmId, spec] of Object.entries(props.alarms)) {
      const alarm = new CloudwatchMetricAlarm(this, alarmId, {
        alarmName: `${props.prefix}-${alarmId}`,
        alarmActions: [this.alarmTopic.arn],
        okActions: [this.alarmTopic.arn],
        treatMissingData: "notBreaching",
        // A percentile (extendedStatistic) replaces the default Sum: an alarm has one or the other.
        ...(spec.extendedStatistic === undefined && { statistic: "Sum" }),
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        ...spec,
        provider,
      });
      this.alarms[alarmId] = alarm;
    }
    const composites = Object.entries(props.composites ?? {}).map(([id, spec]) =>
      this.composite(props, id, spec),
    );
    const panels = [
      ...Object.entries(props.widgets),
      ...Object.entries(props.expressionWidgets ?? {}).map(([title, expression]) => [
        title,
        [[{ expression, id: "e1", label: "" }]],
      ]),
    ] as [string, unknown[][]][];
    const properties = [
      ...panels.map(([title, metrics]) => ({
        title,
        region: props.region,
        stat: "Sum",
        period: 300,
        metrics,
      })),
      ...Object.entries(props.insightWidgets ?? {}).map(([title, ruleName]) => ({
        title,
        region: props.region,
        period: 300,
        insightRule: { maxContributorCount: 10, orderBy: "Sum", ruleName },
        legend: { position: "right" },
      })),
    ];
    const panelsOf = [
      ...properties.map((p) => ["metric", p] as const),
      ...composites.map((c) => ["alarm", { title: c.alarmDescription, alarms: [c.arn] }] as const),
    ];
    const widgets = panelsOf.map(([type, p], i) => ({
      type,
      x: (i % 2) * 12,
      y: Math.floor(i / 2) * 6,
      width: 12,
      height: 6,
      properties: p,
    }));
    new CloudwatchDashboard(this, "dashboard", {
      dashboardName: props.prefix,
      dashboardBody: JSON.stringify({ widgets }),
      provider,
    });
  }

  /**
   * A composite alarm over the named alarms; beyond COMPOSITE_FAN_IN of them, over parts (composites
   * of up to that many each), so a fleet of any size has one alarm for the pager.
   */
  private composite(props: MonitoringProps, id: string, spec: CompositeSpec): CloudwatchCompositeAlarm {
    const names = spec.anyOf.map((alarmId) => {
      const alarm = this.alarms[alarmId];
      if (!alarm) throw new Error(`composite ${id} names alarm ${alarmId}, which is not among the alarms`);
      return alarm.alarmName;
    });
    const parts: string[][] = [];
    for (let i = 0; i < names.length; i += COMPOSITE_FAN_IN) parts.push(names.slice(i, i + COMPOSITE_FAN_IN));
    const alarm = (alarmId: string, description: string, rule: string) =>
      new CloudwatchCompositeAlarm(this, alarmId, {
        alarmName: `${props.prefix}-${alarmId}`,
        alarmDescription: description,
        alarmRule: rule,
        alarmActions: [this.alarmTopic.arn],
        okActions: [this.alarmTopic.arn],
        provider: props.provider,
      });
    if (parts.length <= 1) return alarm(id, spec.alarmDescription, anyAlarm(names));
    const children = parts.map((part, i) =>
      alarm(
        `${id}-part-${i + 1}`,
        `${spec.alarmDescription} (part ${i + 1} of ${parts.length})`,
        anyAlarm(part),
      ),
    );
    return alarm(id, spec.alarmDescription, anyAlarm(children.map((c) => c.alarmName)));
  }
}

/** Alarm names as a composite's rule names them. */
const anyAlarm = (names: readonly string[]) => names.map((n) => `ALARM(${JSON.stringify(n)})`).join(" OR ");

/**
 * A request-metrics filter on a bucket prefix (S3 reports PutRequests per filter id): used to
 * alarm on objects arriving where no tenant gets them.
 */
export function prefixMetric(scope: Construct, id: string, bucketId: string, prefix: string): S3BucketMetric {
  return new S3BucketMetric(scope, id, { bucket: bucketId, name: id, filter: { prefix } });
}
