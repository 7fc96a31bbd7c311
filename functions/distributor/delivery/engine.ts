import type { DeliveryConfig } from "../../shared/delivery-config";
import { accountOfRoleArn } from "../../shared/patterns";
import { registryRefusal, type TenantRegistration } from "../../shared/tenant-registry";
import { type AdmissionDeps, admit } from "../admission/admission";
import { skipReason } from "../admission/matching";
import type { LogObjectKey } from "../admission/object-key";
import type { CachedRegistry, CachedTenantConfigs } from "../admission/tenant-configs";
import { isCustomerSide, MalformedMessageError, NotRegisteredError, outcomeOf } from "../errors";
import { type ObjectRef, parseNotification } from "../intake/notification";
import type { ObjectIdentity } from "../model/ledger";
import type { ParkedEntry } from "../model/parked";
import type { Parking } from "../parking/parking";
import type {
  CloudWatchLogsFactory,
  CredentialBroker,
  DeliveryLedger,
  ObjectSource,
  ObjectWriter,
  Telemetry,
} from "../ports";
import { objectEvents } from "../reading/object-events";
import {
  combineStatus,
  type DestinationResult,
  type MessageResult,
  type ObjectResult,
  OutcomeReport,
} from "../reporting/outcome-report";
import {
  ClaimHandle,
  identityOf,
  knownIdentity,
  ledgerId,
  newOwnerId,
  notClaimed,
  resumedFrom,
} from "./claims";
import { type DestinationDeps, destinationFor } from "./destinations";
import { PUT_LOG_EVENTS_LIMITS, type PutLogEventsLimits } from "./destinations/cloudwatch/batching";
import { countsOf } from "./destinations/destination";
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
}

export interface EngineDeps {
  readonly objects: ObjectSource;
  readonly configs: CachedTenantConfigs;
  /** The tenant registry: which accounts (and clusters) a tenant's logs may go to. */
  readonly registry: CachedRegistry;
  readonly credentials: CredentialBroker;
  readonly cloudWatchLogs: CloudWatchLogsFactory;
  readonly objectWriter: ObjectWriter;
  readonly ledger: DeliveryLedger;
  readonly telemetry: Telemetry;
  /** Parks deliveries that fail on the customer's side; without it (or a durable ledger) they fail permanently. */
  readonly parking?: Parking;
  readonly now?: () => number;
}

/** A redelivery of a parked delivery: one destination only, and the parked claim may be taken. */
export interface ParkedRetry {
  readonly target: string;
}

/**
 * The delivery engine: from one SQS message (an S3 notification) to every destination of the
 * object's tenant. It orchestrates; destinations deliver, the ledger keeps claims and
 * checkpoints, the report logs and counts. Never throws for bad input: every outcome comes back
 * as a result; callers turn "failed_transient" into a retry.
 */
export class DeliveryEngine {
  private readonly now: () => number;
  private readonly limits: PutLogEventsLimits;
  private readonly report: OutcomeReport;
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
    this.destinationDeps = {
      objects: deps.objects,
      cloudWatchLogs: deps.cloudWatchLogs,
      objectWriter: deps.objectWriter,
      telemetry: deps.telemetry,
      call: (operation, deadline) => this.call(operation, deadline),
      sleep: settings.retryHooks?.sleep ?? sleep,
      now: this.now,
      reserveMs: settings.reserveMs ?? 3_000,
      logGroupRetentionDays: settings.logGroupRetentionDays ?? 30,
    };
  }

  /** A deadline `budgetMs` from now on the engine's clock (default: the message budget). */
  newDeadline(budgetMs: number = this.settings.messageBudgetMs ?? 300_000): Deadline {
    return Deadline.after(budgetMs, this.now);
  }

  async processMessage(
    body: string,
    context: Record<string, string> = {},
    deadline: Deadline = this.newDeadline(),
  ): Promise<MessageResult> {
    let parsed: ReturnType<typeof parseNotification>;
    try {
      parsed = parseNotification(body);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      this.report.malformedMessage(body, error.message, context);
      return { status: "failed_permanent", reason: error.message, objects: [], ignored: [] };
    }
    this.report.ignored(parsed.ignored, context);
    const objects: ObjectResult[] = [];
    for (const ref of parsed.objects) objects.push(await this.deliverObject(ref, context, deadline));
    return { status: combineStatus(objects.map((o) => o.status)), objects, ignored: parsed.ignored };
  }

  async deliverObject(
    ref: ObjectRef,
    context: Record<string, string> = {},
    deadline: Deadline = this.newDeadline(),
    retry?: ParkedRetry,
  ): Promise<ObjectResult> {
    const result = await this.deliverObjectUnreported(ref, deadline, retry);
    this.report.object(result, context);
    return result;
  }

  /**
   * Settles a parked delivery that cannot be delivered any more (its destination was removed, the
   * tenant refused, the object gone): recorded as lost with the reason, never left waiting.
   */
  async loseParked(
    entry: ParkedEntry,
    reason: string,
    deadline: Deadline = this.newDeadline(),
  ): Promise<boolean> {
    const acquired = await ClaimHandle.acquire({
      ...this.claimOptions(entry.id, deadline),
      takeParked: true,
    });
    if (!(acquired instanceof ClaimHandle)) return false;
    await acquired.lose({ ...entry, reason });
    return true;
  }

  private async deliverObjectUnreported(
    ref: ObjectRef,
    deadline: Deadline,
    retry?: ParkedRetry,
  ): Promise<ObjectResult> {
    const finish = (r: Omit<ObjectResult, "latencyMs" | "bucket" | "key">): ObjectResult => {
      const reasons = r.destinations
        .filter((d) => d.status !== "delivered" && d.reason)
        .map((d) => `${d.type}: ${d.reason}`);
      return {
        bucket: ref.bucket,
        key: ref.key,
        ...r,
        ...(reasons.length > 0 && { reason: reasons.join(" | ") }),
        latencyMs: Math.max(0, this.now() - ref.eventTime.getTime()),
      };
    };
    const admission = await admit(ref, this.admission);
    if (!admission.admitted) return finish({ ...admission.outcome, destinations: [] });
    const { key, registration, configs, invalid } = admission;
    let version: Promise<ObjectIdentity | undefined> | undefined;
    const pin = () => {
      version ??= this.objectVersion(ref, deadline);
      return version;
    };
    const tasks = configs.valid.map((config) =>
      this.deliverTo(config, registration, ref, key, pin, deadline, retry),
    );
    const results = await Promise.all(tasks);
    const destinations = retry ? results.filter((d) => d.target === retry.target) : [...invalid, ...results];
    const status = combineStatus(destinations.map((d) => d.status));
    return finish({ tenantId: key.tenantId, status, destinations });
  }

  /** One destination, isolated: whatever happens here is this destination's result only. */
  private async deliverTo(
    config: DeliveryConfig,
    registration: TenantRegistration,
    ref: ObjectRef,
    key: LogObjectKey,
    pin: () => Promise<ObjectIdentity | undefined>,
    deadline: Deadline,
    retry?: ParkedRetry,
  ): Promise<DestinationResult> {
    const region = config.target_region ?? this.settings.region;
    const destination = destinationFor(config, key, region, this.limits, this.destinationDeps);
    const base = { ...countsOf(), type: destination.type, target: destination.target };
    if (retry && retry.target !== destination.target)
      return { ...base, status: "skipped", reason: "not retried" };
    const skipped = skipReason(config, key.application, (unknownGroups) =>
      this.deps.telemetry.log("warn", "delivery config names unknown application groups", {
        tenant_id: key.tenantId,
        type: config.type,
        unknown_groups: unknownGroups,
      }),
    );
    if (skipped) return { ...base, status: "skipped", reason: skipped };
    // Where a tenant's logs may go is the registry's word, not the (tenant-editable) config's.
    const accountId = accountOfRoleArn(config.log_distribution_role_arn);
    const refused = registryRefusal(key.tenantId, registration, { accountId });
    if (refused) {
      this.report.registryRefusal(key.tenantId);
      return { ...base, ...outcomeOf(new NotRegisteredError(refused)) };
    }
    const progress = countsOf();
    const parking = this.deps.ledger.durable ? this.deps.parking : undefined;
    const dest = { tenantId: key.tenantId, type: destination.type, target: destination.target };
    let claim: ClaimHandle | undefined;
    let identity: ObjectIdentity | undefined;
    const setAside = async (reason: string, failed: boolean): Promise<DestinationResult> => {
      await claim?.park({ ...dest, ...parkedObject(ref, identity), reason });
      await parking?.parked(dest, reason, failed);
      return { ...base, ...progress, status: "parked", reason, ...resumedFrom(claim) };
    };
    try {
      identity = await pin();
      const acquired = await ClaimHandle.acquire({
        ...this.claimOptions(ledgerId(ref, identity, destination.target), deadline),
        ...(retry && { takeParked: true }),
      });
      if (!(acquired instanceof ClaimHandle)) return { ...base, ...notClaimed(acquired) };
      claim = acquired;
      // An open breaker parks new objects at once: no AssumeRole against a role known to refuse.
      const open = retry ? undefined : await parking?.openBreaker(dest);
      if (open) return await setAside(`destination parked since ${open.since}: ${open.reason}`, false);
      const session = await this.deps.credentials.destinationSession(destination.sessionRequest);
      const call = <T>(operation: () => Promise<T>) => this.call(operation, deadline);
      await destination.deliver({
        ref,
        key,
        pin: identity,
        events: objectEvents(this.deps.objects, ref, identity, call),
        session,
        claim,
        deadline,
        progress,
      });
      await claim.complete(progress);
      await parking?.delivered(dest);
      return { ...base, ...progress, status: "delivered", ...resumedFrom(claim) };
    } catch (error) {
      const outcome = outcomeOf(error);
      try {
        // The customer's side refuses: set aside (acknowledged), retried once it works again.
        if (claim && parking && isCustomerSide(error)) return await setAside(outcome.reason, true);
        // A parked delivery that can no longer be delivered (object expired, config gone bad): lost, said why.
        if (claim && retry && outcome.status === "failed_permanent") {
          await claim.lose({ ...dest, ...parkedObject(ref, identity), reason: outcome.reason });
          return { ...base, ...progress, status: "lost", reason: outcome.reason, ...resumedFrom(claim) };
        }
      } catch (bookkeeping) {
        // Not parked (the ledger refused or timed out): never acknowledged as if it were; the
        // message is retried (then the DLQ), so nothing is lost.
        await claim?.release();
        const failed = `${outcome.reason}; and it could not be parked: ${outcomeOf(bookkeeping).reason}`;
        return { ...base, ...progress, status: "failed_transient", reason: failed, ...resumedFrom(claim) };
      }
      await claim?.release();
      return { ...base, ...progress, ...outcome, ...resumedFrom(claim) };
    }
  }

  private claimOptions(id: string, deadline: Deadline) {
    return {
      ledger: this.deps.ledger,
      id,
      owner: newOwnerId(),
      leaseMs: this.settings.claimLeaseMs ?? 60_000,
      telemetry: this.deps.telemetry,
      call: <T>(operation: () => Promise<T>) => this.call(operation, deadline),
      now: this.now,
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

/** What a parked item must carry to be delivered again: the object, its version and time. */
function parkedObject(ref: ObjectRef, identity: ObjectIdentity | undefined) {
  return {
    bucket: ref.bucket,
    key: ref.key,
    eventTime: ref.eventTime.toISOString(),
    ...(identity?.versionId && { versionId: identity.versionId }),
    ...(identity?.eTag && { eTag: identity.eTag }),
    ...(ref.size !== undefined && { bytes: ref.size }),
  };
}

/** The object a parked entry names, as a notification would. */
export function refOfParked(entry: ParkedEntry): ObjectRef {
  return {
    bucket: entry.bucket,
    key: entry.key,
    eventTime: new Date(entry.eventTime),
    ...(entry.versionId && { versionId: entry.versionId }),
    ...(entry.eTag && { eTag: entry.eTag }),
    ...(entry.bytes !== undefined && { size: entry.bytes }),
  };
}
