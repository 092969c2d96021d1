import { CONSENT_PROPERTY, MFA_PROPERTY } from './provider.ts';

/** A client as Keystep stores it. */
export interface ClientRecord {
  clientId: string;
  metadata: Record<string, unknown>;
  consentRequired: boolean;
  mfa: 'required' | 'optional' | null;
}

/**
 * Client metadata for the provider, with Keystep's own settings as extra properties, kept a few
 * seconds: a login reads it about eight times. The price is that `keystep client add/remove` takes
 * up to that long to reach a running server.
 */
export function clientMetadataSource(find: (clientId: string) => Promise<ClientRecord | undefined>, seconds = 5) {
  const cache = new Map<string, { at: number; value: Promise<Record<string, unknown> | undefined> }>();
  const load = async (clientId: string) => {
    const client = await find(clientId);
    if (!client) return undefined;
    return { ...client.metadata, client_id: client.clientId, [CONSENT_PROPERTY]: client.consentRequired, ...(client.mfa ? { [MFA_PROPERTY]: client.mfa } : {}) };
  };
  return {
    findMetadata(clientId: string) {
      const hit = cache.get(clientId);
      if (hit && performance.now() - hit.at < seconds * 1000) return hit.value;
      if (cache.size > 1000) cache.clear();
      const value = load(clientId);
      cache.set(clientId, { at: performance.now(), value });
      value.catch(() => cache.delete(clientId));
      return value;
    },
  };
}
