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
  /** Builds STS clients; tests may inject. */
  readonly stsClient?: (credentials?: AwsCredentials) => Pick<STSClient, "send">;
}

/**
 * Double hop: distributor credentials -> central log-distribution role -> the customer's role
 * (with the tenant's ExternalId, tenant_id/cluster_id session tags and a session policy).
 * Sessions are cached per role, ExternalId, tags and policy until shortly before they expire;
 * concurrent requests for one session share one AssumeRole call.
 */
export class StsCredentialBroker implements CredentialBroker {
  private readonly cache: ExpiringCache;
  private readonly makeSts: (credentials?: AwsCredentials) => Pick<STSClient, "send">;
  private readonly baseSts: Pick<STSClient, "send">;

  constructor(private readonly options: StsBrokerOptions) {
    this.cache = new ExpiringCache(options.now ?? Date.now, options.refreshBeforeMs ?? 300_000);
    this.makeSts =
      options.stsClient ??
      ((credentials) => new STSClient({ region: options.region, ...(credentials && { credentials }) }));
    this.baseSts = this.makeSts();
  }

  destinationSession(request: SessionRequest): Promise<DestinationSession> {
    const { roleArn, externalId, tenantId, clusterId, region, sessionPolicy } = request;
    const cacheKey = JSON.stringify([roleArn, externalId, tenantId, clusterId, region, sessionPolicy]);
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
    const central = await this.centralCredentials();
    const credentials = await this.assume(this.makeSts(central), {
      RoleArn: request.roleArn,
      RoleSessionName: this.sessionName(request.tenantId),
      ExternalId: request.externalId,
      Policy: request.sessionPolicy,
      Tags: [
        { Key: SESSION_TAGS.tenant, Value: request.tenantId },
        { Key: SESSION_TAGS.cluster, Value: request.clusterId },
      ],
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

/** Promise cache whose entries expire with the credentials they hold; failures are not kept. */
class ExpiringCache {
  private readonly entries = new Map<string, { value: Promise<unknown>; expiresAt: number }>();

  constructor(
    private readonly now: () => number,
    private readonly refreshBeforeMs: number,
  ) {}

  get<T>(key: string, load: () => Promise<T>, expiry: (value: T) => Date | undefined): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && this.now() < hit.expiresAt - this.refreshBeforeMs) return hit.value as Promise<T>;
    const entry = { value: load() as Promise<unknown>, expiresAt: Number.POSITIVE_INFINITY };
    this.entries.set(key, entry);
    entry.value.then(
      (v) => {
        entry.expiresAt = expiry(v as T)?.getTime() ?? this.now() + 15 * 60_000;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.value as Promise<T>;
  }
}
