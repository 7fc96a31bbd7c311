import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";

/** SQS's maximum (14 days) for both: a message can live this long in each, a redrive restarting its clock. */
export const QUEUE_RETENTION_SECONDS = 1_209_600;
export const DLQ_RETENTION_SECONDS = 1_209_600;

export interface QueueWithDlqProps {
  readonly queueName: string;
  readonly kmsKey: { readonly arn: string };
  /** At least 6x the consuming function's timeout (AWS guidance for Lambda event sources). */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default 1209600 (14 days, the maximum) */
  readonly retentionSeconds?: number;
  /**
   * Ignore diffs of redrive_policy: the emulator re-serialises it, which would show a change on
   * every plan. Emulator mode only. @default false
   */
  readonly ignoreRedrivePolicyDiff?: boolean;
  readonly provider?: TerraformProvider;
}

/** An encrypted SQS queue with its dead-letter queue (which only it may use). */
export class QueueWithDlq extends Construct {
  readonly queue: SqsQueue;
  readonly dlq: SqsQueue;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (maxReceiveCount < 1) throw new Error(`maxReceiveCount must be at least 1, got ${maxReceiveCount}`);
    if (props.visibilityTimeoutSeconds < 0 || props.visibilityTimeoutSeconds > 43_200) {
      throw new Error(`visibilityTimeoutSeconds must be 0-43200, got ${props.visibilityTimeoutSeconds}`);
    }
    const retention = props.retentionSeconds ?? QUEUE_RETENTION_SECONDS;
    const encryption = { kmsMasterKeyId: props.kmsKey.arn, kmsDataKeyReusePeriodSeconds: 300 };
    this.dlq = new SqsQueue(this, "dlq", {
      name: `${props.queueName}-dlq`,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
      ...encryption,
      provider: props.provider,
    });
    this.queue = new SqsQueue(this, "queue", {
      name: props.queueName,
      visibilityTimeoutSeconds: props.visibilityTimeoutSeconds,
      messageRetentionSeconds: retention,
      receiveWaitTimeSeconds: 20,
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: this.dlq.arn, maxReceiveCount }),
      ...encryption,
      provider: props.provider,
      ...(props.ignoreRedrivePolicyDiff && { lifecycle: { ignoreChanges: ["redrive_policy"] } }),
    });
  }
}
