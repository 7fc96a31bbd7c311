import { type DeliveryConfig, type DeliveryType, destinationName } from "../../../shared/delivery-config";
import { accountOfRoleArn } from "../../../shared/patterns";
import type { LogObjectKey } from "../../admission/object-key";
import type { ObjectRef } from "../../intake/notification";
import type { DeliveryCounts } from "../../model/counts";
import type { ObjectIdentity } from "../../model/ledger";
import type {
  CloudWatchLogsFactory,
  DestinationSession,
  FirehoseFactory,
  ObjectSource,
  ObjectWriter,
  SessionRequest,
  Telemetry,
} from "../../ports";
import type { EventReader } from "../../reading/object-events";
import type { ShapingCounts } from "../../shaping/shaper";
import type { ClaimHandle } from "../claims";
import type { Deadline } from "../retry";

/**
 * Where a config's logs go, the name the ledger, the parking records and the reports use:
 * `cloudwatch:<region>:<account>:<log group>`, `s3://<bucket>/<prefix>` or the stream's ARN.
 */
export function targetOf(config: DeliveryConfig, region: string): string {
  return config.type === "cloudwatch"
    ? `cloudwatch:${region}:${accountOfRoleArn(config.log_distribution_role_arn)}:${config.log_group_name}`
    : destinationName(config);
}

/** The customer-role session a destination needs: the config's role, the tenant's tags, one policy. */
export function sessionRequestFor(
  config: DeliveryConfig,
  key: LogObjectKey,
  region: string,
  sessionPolicy: string,
): SessionRequest {
  return {
    roleArn: config.log_distribution_role_arn,
    externalId: config.external_id,
    tenantId: key.tenantId,
    region,
    sessionPolicy,
  };
}

/** What every destination may use; built once per engine. */
export interface DestinationDeps {
  readonly objects: ObjectSource;
  readonly cloudWatchLogs: CloudWatchLogsFactory;
  readonly firehose: FirehoseFactory;
  readonly objectWriter: ObjectWriter;
  readonly telemetry: Telemetry;
  /** Runs one AWS call with the engine's retry policy, by time until `deadline`. */
  readonly call: <T>(operation: () => Promise<T>, deadline: Deadline) => Promise<T>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Time kept back for the checkpoint and the report: no new send starts with less left. */
  readonly reserveMs: number;
  /** Retention of log groups logrelay creates when the config does not say. */
  readonly logGroupRetentionDays: number;
}

/** One delivery of one object version to one destination, under a claim. */
export interface DeliveryRun {
  readonly ref: ObjectRef;
  readonly key: LogObjectKey;
  /** The object version every read of this delivery names. */
  readonly pin: ObjectIdentity | undefined;
  readonly events: EventReader;
  readonly session: DestinationSession;
  readonly claim: Pick<ClaimHandle, "checkpoint" | "save" | "ensureHeld">;
  readonly deadline: Deadline;
}

/**
 * What a destination did with an object version: the counts of what was acknowledged (with the
 * checkpoint it resumed from), and the failure that stopped it, if one did.
 */
export interface Attempt {
  readonly counts: DeliveryCounts;
  /** What the config's filter and redaction did past the checkpoint, when it has rules. */
  readonly shaping?: ShapingCounts;
  readonly error?: unknown;
}

/** A place a tenant's logs go: where (target), with which session, and how. */
export interface Destination {
  readonly type: DeliveryType;
  /** `cloudwatch:<region>:<account>:<log group>`, `s3://<bucket>/<prefix>` or the stream's ARN. */
  readonly target: string;
  /** The customer-role session it needs, narrowed by a session policy to this destination. */
  readonly sessionRequest: SessionRequest;
  /** Delivers; a failure comes back in the attempt with what was acknowledged before it. */
  deliver(run: DeliveryRun): Promise<Attempt>;
}
