/**
 * The role-assuming credential broker's port, shared by the distributor (delivery) and the tenant
 * API (validate): both reach a customer's account the same way. The adapter is
 * ./sts-credential-broker.ts.
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Credentials of the customer's role, scoped to one destination, in the destination's region. */
export interface DestinationSession {
  readonly credentials: AwsCredentials;
  readonly region: string;
  /** Account that owns the role (and so must own the destination). */
  readonly accountId: string;
  /** Stable identity of the session, for client caches. */
  readonly cacheKey: string;
}

export interface SessionRequest {
  readonly roleArn: string;
  readonly externalId: string;
  readonly tenantId: string;
  readonly region: string;
  /** IAM session policy narrowing the session to this one destination. */
  readonly sessionPolicy: string;
}

/** Assumes the central role, then the customer's role (ExternalId, session tags); caches sessions. */
export interface CredentialBroker {
  destinationSession(request: SessionRequest): Promise<DestinationSession>;
}

/**
 * The customer's role refused to be assumed (its trust policy, the ExternalId or the session tags
 * no longer match): the cause is on the customer's side. logrelay's own hop (the central role)
 * failing is not this error.
 */
export class CustomerRoleRefusedError extends Error {
  override readonly name = "CustomerRoleRefusedError";
}

/** Whether an STS error says "not allowed" (as opposed to throttling, network or our own token). */
export function isStsRefusal(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.name === "AccessDenied" || e?.$metadata?.httpStatusCode === 403;
}
