import {
  type CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { hasErrorName } from "../../shared/errors";
import { PromiseCache } from "../../shared/promise-cache";
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

/** How a log group came to exist for this process: it created it, or it was there. */
type GroupState = "created" | "existing";

/**
 * What this process knows about log groups and streams, shared by the adapters of every session
 * (credentials renew, the groups stay): each group or stream is created at most once per process
 * at any concurrency, the first caller's result shared by the others (single-flight).
 */
export class LogResources {
  readonly groups = new PromiseCache<GroupState>(Number.POSITIVE_INFINITY);
  readonly streams = new PromiseCache<void>(Number.POSITIVE_INFINITY);
  /** Streams known to exist (a put has succeeded or this process created them). */
  readonly knownStreams = new PromiseCache<true>(Number.POSITIVE_INFINITY);
}

/**
 * CloudWatch Logs of one destination session. A group not known to this process is created
 * first (CreateLogGroup; "already exists" means it was there), with the settings' tags, KMS key
 * and retention when logrelay created it. In a group it created, a new stream is created before
 * its first put; in a group that was there, the put goes first and the stream is created only if
 * the put says it is missing, so a stream another process created costs nothing. A put that finds
 * its stream or group gone (deleted meanwhile) creates them again once.
 * Refusals (role policy, resource policy, KMS) become DestinationDeniedError.
 */
export class CloudWatchLogsAdapter implements CloudWatchLogsApi {
  constructor(
    private readonly client: Pick<CloudWatchLogsClient, "send">,
    /** Account and region of the session: names are unique within them. */
    private readonly scope: string,
    private readonly known: LogResources = new LogResources(),
  ) {}

  async putLogEvents(
    group: string,
    stream: string,
    events: LogEvent[],
    settings: LogGroupSettings,
  ): Promise<PutLogEventsResult> {
    const names = { group: `${this.scope}|${group}`, stream: `${this.scope}|${group}|${stream}` };
    try {
      return await this.putCreating(group, stream, events, settings, names);
    } catch (error) {
      if (isAccessDenied(error)) {
        throw new DestinationDeniedError(`CloudWatch Logs refused ${group}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private async putCreating(
    group: string,
    stream: string,
    events: LogEvent[],
    settings: LogGroupSettings,
    names: { group: string; stream: string },
  ): Promise<PutLogEventsResult> {
    const known = this.known.knownStreams.has(names.stream);
    if (!known && (await this.ensureGroup(group, settings, names.group)) === "created")
      await this.ensureStream(group, stream, settings, names);
    try {
      const result = await this.put(group, stream, events);
      this.known.knownStreams.set(names.stream, true);
      return result;
    } catch (error) {
      if (!hasErrorName(error, "ResourceNotFoundException")) throw error;
    }
    // Missing: never created (put first in a group that was there), or deleted meanwhile.
    this.known.knownStreams.delete(names.stream);
    this.known.streams.delete(names.stream);
    await this.ensureStream(group, stream, settings, names);
    const result = await this.put(group, stream, events);
    this.known.knownStreams.set(names.stream, true);
    return result;
  }

  /** Creates the group unless this process knows it; once per process, shared by concurrent callers. */
  private ensureGroup(group: string, settings: LogGroupSettings, name: string): Promise<GroupState> {
    return this.known.groups.get(name, async () => {
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
      return created ? "created" : "existing";
    });
  }

  /** Creates the stream, once per process; a group found missing (deleted) is created again first. */
  private ensureStream(
    group: string,
    stream: string,
    settings: LogGroupSettings,
    names: { group: string; stream: string },
  ): Promise<void> {
    return this.known.streams.get(names.stream, async () => {
      const command = new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream });
      try {
        await this.tolerateExisting(command);
      } catch (error) {
        if (!hasErrorName(error, "ResourceNotFoundException")) throw error;
        this.known.groups.delete(names.group);
        await this.ensureGroup(group, settings, names.group);
        await this.tolerateExisting(command);
      }
      this.known.knownStreams.set(names.stream, true);
    });
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

/** CloudWatch Logs in the customer's account and region, one client per session, one memory of names per process. */
export function cloudWatchLogsFactory(
  makeClient: (session: DestinationSession) => Pick<CloudWatchLogsClient, "send">,
  known: LogResources = new LogResources(),
): CloudWatchLogsFactory {
  const cache = new ClientCache<CloudWatchLogsAdapter>();
  return (session) =>
    cache.get(
      session,
      () => new CloudWatchLogsAdapter(makeClient(session), `${session.accountId}:${session.region}`, known),
    );
}
