import {
  type CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { hasErrorName } from "../../shared/errors";
import { DestinationDeniedError, isAccessDenied } from "../errors";
import type {
  CloudWatchLogsApi,
  CloudWatchLogsFactory,
  DestinationSession,
  LogGroupSettings,
  PutLogEventsResult,
} from "../ports";
import type { LogEvent } from "../reading/log-records";
import { ClientCache } from "./client-cache";

/** Bounded memory of names known to exist (oldest forgotten first). */
class KnownNames {
  private readonly names = new Set<string>();
  constructor(private readonly max = 10_000) {}
  has(name: string): boolean {
    return this.names.has(name);
  }
  add(name: string): void {
    if (this.names.size >= this.max) {
      const oldest = this.names.values().next().value;
      if (oldest !== undefined) this.names.delete(oldest);
    }
    this.names.add(name);
  }
  delete(name: string): void {
    this.names.delete(name);
  }
}

/**
 * CloudWatch Logs of one destination session. A stream not known to exist is created before the
 * first put (its group only when CreateLogStream says the group is missing); "already exists" is
 * success, and a put that finds the stream gone (deleted meanwhile) creates it again once. A group
 * it creates gets the settings' tags, KMS key and retention.
 * Refusals (role policy, resource policy, KMS) become DestinationDeniedError.
 */
export class CloudWatchLogsAdapter implements CloudWatchLogsApi {
  constructor(
    private readonly client: Pick<CloudWatchLogsClient, "send">,
    private readonly known: KnownNames = new KnownNames(),
  ) {}

  async putLogEvents(
    group: string,
    stream: string,
    events: LogEvent[],
    settings: LogGroupSettings,
  ): Promise<PutLogEventsResult> {
    try {
      const name = `${group}\u0000${stream}`;
      if (!this.known.has(name)) await this.createStream(group, stream, settings);
      this.known.add(name);
      try {
        return await this.put(group, stream, events);
      } catch (error) {
        if (!hasErrorName(error, "ResourceNotFoundException")) throw error;
        this.known.delete(name);
        await this.createStream(group, stream, settings);
        this.known.add(name);
        return await this.put(group, stream, events);
      }
    } catch (error) {
      if (isAccessDenied(error)) {
        throw new DestinationDeniedError(`CloudWatch Logs refused ${group}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private async put(group: string, stream: string, events: LogEvent[]): Promise<PutLogEventsResult> {
    const out = await this.client.send(
      new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: events }),
    );
    const info = out.rejectedLogEventsInfo;
    return {
      ...(info?.tooNewLogEventStartIndex !== undefined && {
        tooNewStartIndex: info.tooNewLogEventStartIndex,
      }),
      ...(info?.tooOldLogEventEndIndex !== undefined && { tooOldEndIndex: info.tooOldLogEventEndIndex }),
      ...(info?.expiredLogEventEndIndex !== undefined && { expiredEndIndex: info.expiredLogEventEndIndex }),
    };
  }

  private async createStream(group: string, stream: string, settings: LogGroupSettings): Promise<void> {
    try {
      await this.client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
      return;
    } catch (error) {
      if (hasErrorName(error, "ResourceAlreadyExistsException")) return;
      if (!hasErrorName(error, "ResourceNotFoundException")) throw error;
    }
    const created = await this.tolerateExisting(
      new CreateLogGroupCommand({
        logGroupName: group,
        tags: settings.tags,
        ...(settings.kmsKeyArn && { kmsKeyId: settings.kmsKeyArn }),
      }),
    );
    // Only a group logrelay created gets its retention: a customer's own group keeps theirs.
    if (created)
      await this.client.send(
        new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: settings.retentionDays }),
      );
    await this.tolerateExisting(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
  }

  /** True when the call created the resource, false when it already existed. */
  private async tolerateExisting(command: CreateLogGroupCommand | CreateLogStreamCommand): Promise<boolean> {
    try {
      await this.client.send(command as CreateLogStreamCommand);
      return true;
    } catch (error) {
      if (!hasErrorName(error, "ResourceAlreadyExistsException")) throw error;
      return false;
    }
  }
}

/** CloudWatch Logs in the customer's account and region, one client per session. */
export function cloudWatchLogsFactory(
  makeClient: (session: DestinationSession) => Pick<CloudWatchLogsClient, "send">,
): CloudWatchLogsFactory {
  const cache = new ClientCache<CloudWatchLogsAdapter>();
  return (session) => cache.get(session, () => new CloudWatchLogsAdapter(makeClient(session)));
}
