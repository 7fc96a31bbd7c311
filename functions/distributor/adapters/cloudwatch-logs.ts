import {
  type CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import type { LogEvent } from "../log-records";
import type {
  CloudWatchLogsApi,
  CloudWatchLogsFactory,
  DestinationSession,
  PutLogEventsResult,
} from "../ports";
import { ClientCache } from "./client-cache";

const alreadyExists = (e: unknown) => (e as { name?: unknown }).name === "ResourceAlreadyExistsException";

export class CloudWatchLogsAdapter implements CloudWatchLogsApi {
  constructor(private readonly client: Pick<CloudWatchLogsClient, "send">) {}

  async putLogEvents(group: string, stream: string, events: LogEvent[]): Promise<PutLogEventsResult> {
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

  async createLogGroup(group: string): Promise<void> {
    try {
      await this.client.send(new CreateLogGroupCommand({ logGroupName: group }));
    } catch (e) {
      if (!alreadyExists(e)) throw e;
    }
  }

  async createLogStream(group: string, stream: string): Promise<void> {
    try {
      await this.client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
    } catch (e) {
      if (!alreadyExists(e)) throw e;
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
