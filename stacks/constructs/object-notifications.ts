import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { policyJson } from "./iam";
import { QueueWithDlq } from "./queue-with-dlq";

export interface ObjectNotificationsProps {
  /** The bucket whose new objects are announced. */
  readonly bucket: { readonly arn: string; readonly id: string };
  /** Only keys ending so are announced (e.g. `.gz`). */
  readonly filterSuffix: string;
  readonly topicName: string;
  readonly queueName: string;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message goes to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** The account of the bucket: S3 may publish only on its behalf. */
  readonly accountId: string;
  /**
   * Roles that may send to the queue besides the topic (operators running `logrelay replay` or
   * `dlq redrive`). Everyone else is denied, even with sqs:SendMessage in their own policies.
   * @default none
   */
  readonly queueSenders?: readonly string[];
  readonly kmsKey: { readonly arn: string };
  /** Emulator: moto re-serialises redrive_policy, so its diff is ignored. @default false */
  readonly ignoreRedrivePolicyDiff?: boolean;
  readonly provider?: TerraformProvider;
}

/**
 * Bucket -> topic -> queue (+ DLQ): every new object is announced through SNS (so more consumers
 * can subscribe) into an encrypted SQS queue with a dead-letter queue. Only the bucket may publish
 * to the topic, only the topic may send to the queue.
 */
export class ObjectNotifications extends Construct {
  readonly topic: SnsTopic;
  readonly delivery: QueueWithDlq;

  constructor(scope: Construct, id: string, props: ObjectNotificationsProps) {
    super(scope, id);
    const provider = props.provider;
    this.topic = new SnsTopic(this, "topic", {
      name: props.topicName,
      kmsMasterKeyId: props.kmsKey.arn,
      provider,
    });
    const topicPolicy = new SnsTopicPolicy(this, "topic-policy", {
      arn: this.topic.arn,
      policy: policyJson(
        {
          Sid: "StagingBucketPublishesOnly",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: "sns:Publish",
          Resource: this.topic.arn,
          Condition: {
            ArnLike: { "aws:SourceArn": props.bucket.arn },
            StringEquals: { "aws:SourceAccount": props.accountId },
          },
        },
        {
          // Identity policies with sns:Publish (same account) cannot inject notifications either.
          Sid: "NobodyElsePublishes",
          Effect: "Deny",
          Principal: "*",
          Action: "sns:Publish",
          Resource: this.topic.arn,
          Condition: { ArnNotEquals: { "aws:SourceArn": props.bucket.arn } },
        },
      ),
      provider,
    });
    new S3BucketNotification(this, "bucket-notification", {
      bucket: props.bucket.id,
      topic: [{ topicArn: this.topic.arn, events: ["s3:ObjectCreated:*"], filterSuffix: props.filterSuffix }],
      // S3 checks that it may publish when the notification is created.
      dependsOn: [topicPolicy],
      provider,
    });
    this.delivery = new QueueWithDlq(this, "queue", {
      queueName: props.queueName,
      kmsKey: props.kmsKey,
      visibilityTimeoutSeconds: props.visibilityTimeoutSeconds,
      ...(props.maxReceiveCount !== undefined && { maxReceiveCount: props.maxReceiveCount }),
      ...(props.ignoreRedrivePolicyDiff !== undefined && {
        ignoreRedrivePolicyDiff: props.ignoreRedrivePolicyDiff,
      }),
      ...(provider && { provider }),
    });
    new SqsQueuePolicy(this, "queue-policy", {
      queueUrl: this.delivery.queue.url,
      policy: policyJson(
        {
          Sid: "ObjectsTopicOnly",
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: this.delivery.queue.arn,
          Condition: { ArnEquals: { "aws:SourceArn": this.topic.arn } },
        },
        {
          // Identity policies with sqs:SendMessage cannot inject notifications; listed operator
          // roles (replay, DLQ redrive) excepted.
          Sid: "NobodyElseSends",
          Effect: "Deny",
          Principal: "*",
          Action: "sqs:SendMessage",
          Resource: this.delivery.queue.arn,
          Condition: {
            ArnNotEquals: { "aws:SourceArn": this.topic.arn },
            ...((props.queueSenders ?? []).length > 0 && {
              ArnNotLike: { "aws:PrincipalArn": [...(props.queueSenders ?? [])] },
            }),
          },
        },
      ),
      provider,
    });
    new SnsTopicSubscription(this, "subscription", {
      topicArn: this.topic.arn,
      protocol: "sqs",
      endpoint: this.delivery.queue.arn,
      provider,
    });
  }
}
