import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Notifier, Telemetry } from "../ports";

/** SNS's subject limit: 100 printable ASCII characters. */
const subjectOf = (s: string) => s.replace(/[^\x20-\x7e]/g, "?").slice(0, 100);

/**
 * Publishes destination state changes to the alarm topic. Message attributes (`tenant_id`,
 * `destination_type`, `state`) let a subscription filter forward one tenant's notices to them.
 */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: Pick<SNSClient, "send">,
    private readonly topicArn: string,
  ) {}

  async notify(subject: string, message: string, attributes: Record<string, string>): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: subjectOf(subject),
        Message: message,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
        ),
      }),
    );
  }
}

/** Without a topic (a local run, the CLI without ALARM_TOPIC_ARN) notices are log lines only. */
export class LogNotifier implements Notifier {
  constructor(private readonly telemetry: Telemetry) {}
  async notify(subject: string, message: string, attributes: Record<string, string>): Promise<void> {
    this.telemetry.log("info", "notice (no ALARM_TOPIC_ARN: not published)", {
      subject,
      message,
      ...attributes,
    });
  }
}
