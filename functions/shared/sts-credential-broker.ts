import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { SESSION_TAGS } from "./contract";
import {
  type AwsCredentials,
  type CredentialBroker,
  CustomerRoleRefusedError,
  type DestinationSession,
  isStsRefusal,
  type SessionRequest,
} from "./credentials";
import { accountOfRoleArn } from "./patterns";

export interface StsBrokerOptions {
  /** The distributor's region (STS regional endpoint). */
  readonly region: string;
  readonly centralRoleArn: string;
  /** Session name prefix, visible in the customer's CloudTrail. */
  readonly sessionName?: string;
  /** Refresh this long before expiry. @default 300000 (5 minutes) */
  readonly refreshBeforeMs?: number;
  readonly now?: () => number;
  /** Builds the STS clients (the second gets the central session's credential provider); tests may inject. */
  readonly stsClient?: (credentials?: () => Promise<AwsCredentials>) => Pick<STSClient, "send">;
}

/**
 * Double hop: distributor credentials -> central log-distribution role -> the customer's role
 * (with the tenant's ExternalId, the tenant_id session tag and a session policy).
 *
 * One AssumeRole per (customer role, ExternalId, tenant, region, session policy) per process per
 * credential lifetime, whatever the number of clusters and objects: the session carries nothing
 * per cluster (streams and copies name the cluster; CloudTrail shows `logrelay-<tenant>`).
 * Concurrent requests share one call; a session is refreshed in the background once it has less
 * than `refreshBeforeMs` left, by one call, while callers keep using the still-valid one. Two STS
 * clients per process: one per hop (the second signs with the central role's cached session).
 */
export class StsCredentialBroker implements CredentialBroker {
  private readonly cache: ExpiringCache;
  private readonly baseSts: Pick<STSClient, "send">;
  private readonly hopSts: Pick<STSClient, "send">;

  constructor(private readonly options: StsBrokerOptions) {
    this.cache = new ExpiringCache(options.now ?? Date.now, options.refreshBeforeMs ?? 300_000);
    const make =
      options.stsClient ??
      ((credentials) => new STSClient({ region: options.region, ...(credentials && { credentials }) }));
    this.baseSts = make();
    this.hopSts = make(() => this.centralCredentials());
  }

  destinationSession(request: SessionRequest): Promise<DestinationSession> {
    const { roleArn, externalId, tenantId, region, sessionPolicy } = request;
    const cacheKey = JSON.stringify([roleArn, externalId, tenantId, region, sessionPolicy]);
    return this.cache.get(
      cacheKey,
      () => this.assumeCustomerRole(request, cacheKey),
      (s) => s.credentials.expiration,
    );
  }

  private centralCredentials(): Promise<AwsCredentials> {
    const load = () =>
      this.assume(this.baseSts, {
        RoleArn: this.options.centralRoleArn,
        RoleSessionName: this.sessionName("central"),
      });
    return this.cache.get("central", load, (c) => c.expiration);
  }

  private async assumeCustomerRole(request: SessionRequest, cacheKey: string): Promise<DestinationSession> {
    // Our own hop first (cached), so its failures are never taken for the customer's refusal.
    await this.centralCredentials();
    const credentials = await this.assume(this.hopSts, {
      RoleArn: request.roleArn,
      RoleSessionName: this.sessionName(request.tenantId),
      ExternalId: request.externalId,
      Policy: request.sessionPolicy,
      Tags: [{ Key: SESSION_TAGS.tenant, Value: request.tenantId }],
    }).catch((error: unknown) => {
      if (!isStsRefusal(error)) throw error;
      throw new CustomerRoleRefusedError(
        `the customer's role ${request.roleArn} refused AssumeRole: ${(error as Error).message}`,
        { cause: error },
      );
    });
    return { credentials, region: request.region, accountId: accountOfRoleArn(request.roleArn), cacheKey };
  }

  private sessionName(suffix: string): string {
    return `${this.options.sessionName ?? "logrelay"}-${suffix}`.slice(0, 64);
  }

  private async assume(
    sts: Pick<STSClient, "send">,
    input: ConstructorParameters<typeof AssumeRoleCommand>[0],
  ): Promise<AwsCredentials> {
    const out = await sts.send(new AssumeRoleCommand({ DurationSeconds: 3600, ...input }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`AssumeRole ${input.RoleArn} returned no credentials`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken && { sessionToken: c.SessionToken }),
      ...(c.Expiration && { expiration: c.Expiration }),
    };
  }
}

interface Entry {
  value: Promise<unknown>;
  expiresAt: number;
  refreshing?: Promise<unknown>;
}

/**
 * Promise cache whose entries expire with the credentials they hold; failures are not kept. An
 * entry within `refreshBeforeMs` of expiry is refreshed by one background load while it is still
 * served; only an expired entry makes callers wait.
 */
class ExpiringCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly now: () => number,
    private readonly refreshBeforeMs: number,
  ) {}

  get<T>(key: string, load: () => Promise<T>, expiry: (value: T) => Date | undefined): Promise<T> {
    const hit = this.entries.get(key);
    const now = this.now();
    if (hit && now < hit.expiresAt - this.refreshBeforeMs) return hit.value as Promise<T>;
    if (hit && now < hit.expiresAt) {
      hit.refreshing ??= this.start(key, load, expiry, true).catch(() => {
        hit.refreshing = undefined; // the old session serves on; the next caller tries again
      });
      return hit.value as Promise<T>;
    }
    return this.start(key, load, expiry, false);
  }

  private start<T>(
    key: string,
    load: () => Promise<T>,
    expiry: (value: T) => Date | undefined,
    refresh: boolean,
  ): Promise<T> {
    const value = load();
    const pending: Entry = { value, expiresAt: Number.POSITIVE_INFINITY };
    // A refresh replaces the entry only once it has succeeded; any other load is shared at once.
    if (!refresh) this.entries.set(key, pending);
    value.then(
      (v) => {
        pending.expiresAt = expiry(v as T)?.getTime() ?? this.now() + 15 * 60_000;
        this.entries.set(key, pending);
      },
      () => {
        if (this.entries.get(key) === pending) this.entries.delete(key);
      },
    );
    return value;
  }
}
