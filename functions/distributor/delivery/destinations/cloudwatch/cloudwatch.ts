import { LOG_GROUP_TAGS, LOG_GROUP_WRITER_ACTIONS } from "../../../../shared/contract";
import type { CloudWatchConfig } from "../../../../shared/delivery-config";
import { accountOfRoleArn } from "../../../../shared/patterns";
import type { LogObjectKey } from "../../../admission/object-key";
import type { LogGroupSettings, PutLogEventsResult, SessionRequest } from "../../../ports";
import { type EventChunk, type LogEvent, messageBytes } from "../../../reading/log-records";
import { Shaper } from "../../../shaping/shaper";
import { BatchedDestination, type Units } from "../batched";
import type { CheckpointTally } from "../checkpoint-tally";
import { type DeliveryRun, type DestinationDeps, sessionRequestFor, targetOf } from "../destination";
import {
  eventBytes,
  isInAcceptWindow,
  type LogBatch,
  PutLogEventsBatcher,
  type PutLogEventsLimits,
  splitOversizeMessage,
} from "./batching";

/**
 * Version of the rules that cut an object into batches (reading, accept window, splitting,
 * batching); the config's filter and redaction add their fingerprint. A checkpoint written under
 * another version cannot be trusted to point at the same event: the destination then starts again
 * from the first event (duplicates are possible, loss is not), logging
 * `checkpoint_version_mismatch`. Bump it with any change to those rules.
 */
export const BATCHING_VERSION = "cw-1";

/** CloudWatch Logs stream `{cluster_id}/{application}/{pod_name}/{YYYY-MM-DD}` (UTC date of the object). */
export function logStreamName(key: LogObjectKey, objectTime: Date): string {
  return `${key.clusterId}/${key.application}/${key.podName}/${objectTime.toISOString().slice(0, 10)}`;
}

/** Session policy of the customer-role hop: this one log group and its streams. */
export function cloudWatchSessionPolicy(region: string, accountId: string, logGroupName: string): string {
  const group = `arn:aws:logs:${region}:${accountId}:log-group:${logGroupName}`;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [...LOG_GROUP_WRITER_ACTIONS],
        Resource: [group, `${group}:*`],
      },
    ],
  });
}

/** Events CloudWatch refused in a batch: [0..tooOld/expired end] and [tooNew start..]. */
export function rejectedCount(result: PutLogEventsResult, batchSize: number): number {
  const oldEnd = Math.max(result.tooOldEndIndex ?? -1, result.expiredEndIndex ?? -1);
  const newStart = result.tooNewStartIndex ?? batchSize;
  const front = Math.min(oldEnd + 1, batchSize);
  const back = Math.max(0, batchSize - Math.max(newStart, front));
  return front + back;
}

/**
 * Delivers an object's events into the tenant's log group, in batches that keep every
 * PutLogEvents rule (checkpointed as BatchedDestination says). The config's redaction masks each
 * message before it is batched.
 */
export class CloudWatchDestination extends BatchedDestination<LogEvent, LogBatch> {
  readonly type = "cloudwatch" as const;
  readonly target: string;
  readonly sessionRequest: SessionRequest;
  protected readonly batchingVersion = BATCHING_VERSION;
  private readonly group: string;
  private readonly groupSettings: LogGroupSettings;
  private readonly maxMessageBytes: number;

  constructor(
    config: CloudWatchConfig,
    key: LogObjectKey,
    region: string,
    private readonly limits: PutLogEventsLimits,
    deps: DestinationDeps,
  ) {
    const shaper = Shaper.of(config);
    super(key, deps, shaper, shaper?.needsRecords ?? false);
    const accountId = accountOfRoleArn(config.log_distribution_role_arn);
    this.group = config.log_group_name;
    this.groupSettings = {
      retentionDays: config.retention_days ?? deps.logGroupRetentionDays,
      ...(config.kms_key_arn && { kmsKeyArn: config.kms_key_arn }),
      tags: { [LOG_GROUP_TAGS.managedBy]: "logrelay", [LOG_GROUP_TAGS.tenant]: key.tenantId },
    };
    this.target = targetOf(config, region);
    this.sessionRequest = sessionRequestFor(
      config,
      key,
      region,
      cloudWatchSessionPolicy(region, accountId, this.group),
    );
    this.maxMessageBytes = limits.maxEventBytes - limits.perEventOverheadBytes;
  }

  protected newBatcher(): PutLogEventsBatcher {
    return new PutLogEventsBatcher(this.limits);
  }

  /** The event, redacted; outside the accept window none; over the size limit its pieces. */
  protected unitsOf(
    chunk: EventChunk,
    index: number,
    windowNowMs: number,
    tally: CheckpointTally,
    out: Units<LogEvent>,
  ): void {
    let event = chunk[index]!;
    if (!isInAcceptWindow(event.timestamp, windowNowMs)) {
      tally.rejected();
      return;
    }
    let bytes: number;
    const redacted = this.shaper?.redactMessage(event.message, tally.redactions()) ?? event.message;
    if (redacted === event.message) bytes = messageBytes(chunk, index);
    else {
      event = { timestamp: event.timestamp, message: redacted };
      bytes = Buffer.byteLength(redacted, "utf8");
    }
    const overhead = this.limits.perEventOverheadBytes;
    if (bytes <= this.maxMessageBytes) {
      out.units[0] = event;
      out.sizes[0] = bytes + overhead;
      out.count = 1;
      return;
    }
    tally.split();
    for (const message of splitOversizeMessage(event.message, this.maxMessageBytes)) {
      out.units[out.count] = { timestamp: event.timestamp, message };
      out.sizes[out.count++] = eventBytes(message, this.limits);
    }
  }

  protected async sendBatch(run: DeliveryRun, batch: LogBatch): Promise<number> {
    const logs = this.deps.cloudWatchLogs(run.session);
    const stream = logStreamName(this.key, run.ref.eventTime);
    const result = await this.deps.call(
      () => logs.putLogEvents(this.group, stream, batch.events, this.groupSettings),
      run.deadline,
    );
    return rejectedCount(result, batch.events.length);
  }
}
