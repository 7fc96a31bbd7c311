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
    >
  >;

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
    const widgets = properties.map((p, i) => ({
      type: "metric",
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
}

/**
 * A request-metrics filter on a bucket prefix (S3 reports PutRequests per filter id): used to
 * alarm on objects arriving where no tenant gets them.
 */
export function prefixMetric(scope: Construct, id: string, bucketId: string, prefix: string): S3BucketMetric {
  return new S3BucketMetric(scope, id, { bucket: bucketId, name: id, filter: { prefix } });
}
