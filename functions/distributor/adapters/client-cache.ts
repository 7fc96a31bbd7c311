import type { DestinationSession } from "../ports";

/**
 * One SDK client per destination session (credentials + region), reused while the session is
 * current so connections are kept alive; bounded so thousands of tenants cannot grow it forever.
 */
export class ClientCache<C> {
  private readonly clients = new Map<string, C>();

  constructor(private readonly maxEntries = 500) {}

  get(session: DestinationSession, make: () => C): C {
    const key = `${session.cacheKey}|${session.credentials.accessKeyId}`;
    const hit = this.clients.get(key);
    if (hit) return hit;
    if (this.clients.size >= this.maxEntries) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
    const client = make();
    this.clients.set(key, client);
    return client;
  }
}
