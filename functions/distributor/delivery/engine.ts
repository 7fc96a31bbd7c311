import { type DeliveryConfig, destinationRegion } from "../../shared/delivery-config";
import { accountOfRoleArn } from "../../shared/patterns";
import { registryRefusal } from "../../shared/tenant-registry";
import { type AdmissionDeps, admit } from "../admission/admission";
import { skipReason } from "../admission/matching";
import type { LogObjectKey } from "../admission/object-key";
import type { CachedRegistry, CachedTenantConfigs } from "../admission/tenant-configs";
import { NotRegisteredError, outcomeOf } from "../errors";
import { type ObjectRef, type QueuedMessage, readMessage } from "../intake/notification";
import { countsOf } from "../model/counts";
import type { ObjectIdentity } from "../model/ledger";
import type { Parking } from "../parking/parking";
import type {
  CloudWatchLogsFactory,
  CredentialBroker,
  DeliveryLedger,
  FirehoseFactory,
  ObjectSource,
  ObjectWriter,
  Telemetry,
} from "../ports";
import type { ObjectLimits } from "../reading/decompress";
import { type HeartbeatPulse, PulseDestination } from "../reporting/heartbeats";
import {
  combineStatus,
  type DestinationResult,
  type MessageResult,
  type ObjectResult,
  OutcomeReport,
} from "../reporting/outcome-report";
import { identityOf, knownIdentity } from "./claims";
import { type DeliveryJob, DestinationDelivery } from "./destination-delivery";
import { type Destination, type DestinationDeps, destinationFor } from "./destinations";
import { PUT_LOG_EVENTS_LIMITS, type PutLogEventsLimits } from "./destinations/cloudwatch/batching";
import type { DeliveryMode } from "./disposition";
import { Deadline, type RetryHooks, type RetryPolicy, sleep, withRetry } from "./retry";

export interface EngineSettings {
  /** The distributor's region: default target_region. */
  readonly region: string;
  readonly retry: RetryPolicy;
  readonly limits?: PutLogEventsLimits;
  readonly retryHooks?: RetryHooks;
  /** Time one message may take when the caller gives no deadline. @default 300000 */
  readonly messageBudgetMs?: number;
  /** Length of a delivery claim's lease, renewed every third of it while working. @default 60000 */
  readonly claimLeaseMs?: number;
  /** No new send starts with less time than this left (kept for checkpoint and report). @default 3000 */
  readonly reserveMs?: number;
  /** Retention of log groups the distributor creates when a config does not say. @default 30 */
  readonly logGroupRetentionDays?: number;
  /** The only buckets objects may come from; others are refused. @default any */
  readonly stagingBuckets?: readonly string[];
  /** What one staged object may inflate to. @default DEFAULT_OBJECT_LIMITS */
  readonly objectLimits?: ObjectLimits;
}

export interface EngineDeps {
  readonly objects: ObjectSource;
  readonly configs: CachedTenantConfigs;
  /** The tenant registry: which accounts (and clusters) a tenant's logs may go to. */
  readonly registry: CachedRegistry;
  readonly credentials: CredentialBroker;
  readonly cloudWatchLogs: CloudWatchLogsFactory;
  readonly firehose: FirehoseFactory;
  readonly objectWriter: ObjectWriter;
  readonly ledger: DeliveryLedger;
  readonly telemetry: Telemetry;
  /** Parks deliveries that fail on the customer's side; without it (or a durable ledger) they fail permanently. */
  readonly parking?: Parking;
  /** The heartbeat tenant, whose CloudWatch deliveries keep each cluster's pulse. */
  readonly heartbeats?: { readonly tenantId: string; readonly pulse: HeartbeatPulse };
  readonly now?: () => number;
}

/** Each destination of an object: a job to run, or the result it already has (skipped, refused). */
export type Planned = { readonly job: DeliveryJob } | { readonly result: DestinationResult };

/** An object admitted for delivery, with its destinations planned; or the outcome that refused it. */
export type Plan =
  | { readonly admitted: false; readonly outcome: Pick<ObjectResult, "status" | "reason" | "tenantId"> }
  | { readonly admitted: true; readonly key: LogObjectKey; readonly destinations: Planned[] };

/**
 * The delivery engine: from one SQS message (an S3 notification) to every destination of the
 * object's tenant. It plans (admission, destinations) and hands each destination to a
 * DestinationDelivery; the report logs and counts. Never throws for bad input: every outcome comes
 * back as a result; callers turn "failed_transient" into a retry.
 */
export class DeliveryEngine {
  readonly report: OutcomeReport;
  /** Runs one destination under a claim: shared with the redelivery of parked deliveries. */
  readonly delivery: DestinationDelivery;
  private readonly now: () => number;
  private readonly limits: PutLogEventsLimits;
  private readonly destinationDeps: DestinationDeps;
  private readonly admission: AdmissionDeps;

  constructor(
    private readonly deps: EngineDeps,
    private readonly settings: EngineSettings,
  ) {
    this.now = deps.now ?? Date.now;
    this.limits = settings.limits ?? PUT_LOG_EVENTS_LIMITS;
    this.report = new OutcomeReport(deps.telemetry);
    this.admission = {
      registry: deps.registry,
      configs: deps.configs,
      report: this.report,
      ...(settings.stagingBuckets && { stagingBuckets: settings.stagingBuckets }),
    };
    const call = <T>(operation: () => Promise<T>, deadline: Deadline) => this.call(operation, deadline);
    this.destinationDeps = {
      objects: deps.objects,
      cloudWatchLogs: deps.cloudWatchLogs,
      firehose: deps.firehose,
      objectWriter: deps.objectWriter,
      telemetry: deps.telemetry,
      call,
      sleep: settings.retryHooks?.sleep ?? sleep,
      now: this.now,
      reserveMs: settings.reserveMs ?? 3_000,
      logGroupRetentionDays: settings.logGroupRetentionDays ?? 30,
    };
    this.delivery = new DestinationDelivery({
      ledger: deps.ledger,
      credentials: deps.credentials,
      objects: deps.objects,
      telemetry: deps.telemetry,
      ...(deps.parking && { parking: deps.parking }),
      call,
      claimLeaseMs: settings.claimLeaseMs ?? 60_000,
      ...(settings.objectLimits && { objectLimits: settings.objectLimits }),
      now: this.now,
    });
  }

  /** A deadline `budgetMs` from now on the engine's clock (default: the message budget). */
  newDeadline(budgetMs: number = this.settings.messageBudgetMs ?? 300_000): Deadline {
    return Deadline.after(budgetMs, this.now);
  }

  /** One SQS message body, read here (callers that already read it pass the QueuedMessage). */
  async processMessage(
    message: string | QueuedMessage,
    context: Record<string, string> = {},
    deadline: Deadline = this.newDeadline(),
  ): Promise<MessageResult> {
    const read = typeof message === "string" ? readMessage(message) : message;
    if (!read.notification) {
      this.report.malformedMessage(read.body, read.malformed, context);
      return { status: "failed_permanent", reason: read.malformed, objects: [], ignored: [] };
    }
    const { objects: refs, ignored } = read.notification;
    this.report.ignored(ignored, context);
    const objects: ObjectResult[] = [];
    for (const ref of refs) objects.push(await this.deliverObject(ref, context, deadline));
    return { status: combineStatus(objects.map((o) => o.status)), objects, ignored };
  }

  /** Every destination of one object. */
  async deliverObject(
    ref: ObjectRef,
    context: Record<string, string> = {},
    deadline: Deadline = this.newDeadline(),
  ): Promise<ObjectResult> {
    const plan = await this.plan(ref, deadline);
    const destinations = plan.admitted
      ? await Promise.all(plan.destinations.map((p) => this.runPlanned(p, "new", deadline)))
      : [];
    const result = plan.admitted
      ? this.objectResult(
          ref,
          plan.key.tenantId,
          combineStatus(destinations.map((d) => d.status)),
          destinations,
        )
      : this.objectResult(ref, plan.outcome.tenantId, plan.outcome.status, [], plan.outcome.reason);
    this.report.object(result, context);
    return result;
  }

  /** A planned destination's result: run its job in `mode`, or the result it already has. */
  runPlanned(planned: Planned, mode: DeliveryMode, deadline: Deadline): Promise<DestinationResult> {
    return "job" in planned
      ? this.delivery.run(planned.job, mode, deadline)
      : Promise.resolve(planned.result);
  }

  /**
   * What may be delivered, decided before any object read or customer-side call: the object's
   * admission (bucket, key, registry, configs), and per config a job or why not (invalid, disabled,
   * application not selected, an account the tenant is not registered for).
   */
  async plan(ref: ObjectRef, deadline: Deadline): Promise<Plan> {
    const admission = await admit(ref, this.admission);
    if (!admission.admitted) return { admitted: false, outcome: admission.outcome };
    const { key, registration, configs, invalid } = admission;
    let version: Promise<ObjectIdentity | undefined> | undefined;
    const identity = () => {
      version ??= this.objectVersion(ref, deadline);
      return version;
    };
    const planned = configs.valid.map((config): Planned => {
      const region = destinationRegion(config, this.settings.region);
      const destination = this.destinationOf(config, key, region);
      const none = { ...countsOf(), type: destination.type, target: destination.target };
      const skipped = skipReason(config, key.application, (unknownGroups) =>
        this.deps.telemetry.log("warn", "delivery config names unknown application groups", {
          tenant_id: key.tenantId,
          type: config.type,
          unknown_groups: unknownGroups,
        }),
      );
      if (skipped) return { result: { ...none, status: "skipped", reason: skipped } };
      // Where a tenant's logs may go is the registry's word, not the (tenant-editable) config's.
      const accountId = accountOfRoleArn(config.log_distribution_role_arn);
      const refused = registryRefusal(key.tenantId, registration, { accountId });
      if (refused) {
        this.report.registryRefusal(key.tenantId);
        return { result: { ...none, ...outcomeOf(new NotRegisteredError(refused)) } };
      }
      return { job: { destination, ref, key, identity } };
    });
    return { admitted: true, key, destinations: [...invalid.map((result) => ({ result })), ...planned] };
  }

  /** The destination a config names; the heartbeat tenant's CloudWatch one also keeps the pulse. */
  private destinationOf(config: DeliveryConfig, key: LogObjectKey, region: string): Destination {
    const destination = destinationFor(config, key, region, this.limits, this.destinationDeps);
    const heartbeats = this.deps.heartbeats;
    if (!heartbeats || key.tenantId !== heartbeats.tenantId || destination.type !== "cloudwatch")
      return destination;
    return new PulseDestination(destination, heartbeats.pulse, key.clusterId, this.now);
  }

  /** An object's result from its destinations' (or the refusal's) status. */
  objectResult(
    ref: ObjectRef,
    tenantId: string | undefined,
    status: ObjectResult["status"],
    destinations: DestinationResult[],
    refusal?: string,
  ): ObjectResult {
    const reasons = destinations
      .filter((d) => d.status !== "delivered" && d.reason)
      .map((d) => `${d.type}: ${d.reason}`);
    const reason = refusal ?? (reasons.length > 0 ? reasons.join(" | ") : undefined);
    return {
      bucket: ref.bucket,
      key: ref.key,
      ...(tenantId !== undefined && { tenantId }),
      status,
      destinations,
      ...(reason !== undefined && { reason }),
      latencyMs: Math.max(0, this.now() - ref.eventTime.getTime()),
    };
  }

  /** Without a durable ledger nothing needs the object's identity, so no HEAD is made for it. */
  private async objectVersion(ref: ObjectRef, deadline: Deadline): Promise<ObjectIdentity | undefined> {
    const known = knownIdentity(ref);
    if (known || !this.deps.ledger.durable) return known;
    const found = await this.call(() => this.deps.objects.identify(ref.bucket, ref.key), deadline);
    return identityOf(ref, found);
  }

  private call<T>(operation: () => Promise<T>, deadline: Deadline): Promise<T> {
    return withRetry(operation, this.settings.retry, this.settings.retryHooks, deadline);
  }
}
