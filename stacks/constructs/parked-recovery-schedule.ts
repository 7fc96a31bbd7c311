import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Construct } from "constructs";
import { RECOVER_PARKED_EVENT } from "../../functions/shared/contract";

export interface ParkedRecoveryScheduleProps {
  /** The EventBridge rule's name. */
  readonly ruleName: string;
  /** Minutes between runs. */
  readonly everyMinutes: number;
  /** The distributor function: it probes parked destinations when sent RECOVER_PARKED_EVENT. */
  readonly fn: { readonly arn: string; readonly functionName: string };
  /** @default true */
  readonly enabled?: boolean;
}

/**
 * A schedule that invokes the distributor with the recover-parked event: it probes every parked
 * destination (the validate checks) and delivers what waits on those that work again. Only this
 * rule may invoke the function through EventBridge.
 */
export class ParkedRecoverySchedule extends Construct {
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: ParkedRecoveryScheduleProps) {
    super(scope, id);
    const every = props.everyMinutes;
    this.rule = new CloudwatchEventRule(this, "rule", {
      name: props.ruleName,
      description: "logrelay: probe parked destinations and deliver what waits on those that work again",
      scheduleExpression: `rate(${every} ${every === 1 ? "minute" : "minutes"})`,
      state: props.enabled === false ? "DISABLED" : "ENABLED",
    });
    new CloudwatchEventTarget(this, "target", {
      rule: this.rule.name,
      arn: props.fn.arn,
      input: JSON.stringify(RECOVER_PARKED_EVENT),
    });
    new LambdaPermission(this, "invoke", {
      statementId: "recover-parked-schedule",
      action: "lambda:InvokeFunction",
      functionName: props.fn.functionName,
      principal: "events.amazonaws.com",
      sourceArn: this.rule.arn,
    });
  }
}
