import type { Clock } from '../shared/clock.ts';
import { clientMetadataCache } from './client-cache.ts';
import { CONSENT_PROPERTY, FIRST_STEPS_PROPERTY, MFA_PROPERTY, type ClientMfa } from './provider.ts';

/** A client as Keystep stores it. */
export interface ClientRecord {
  clientId: string;
  metadata: Record<string, unknown>;
  consentRequired: boolean;
  mfa: ClientMfa | null;
  /** The first-stage factors it offers; null or absent: password only. */
  firstSteps?: readonly string[] | null;
}

/**
 * Client metadata for the provider, with Keystep's own settings as extra properties, kept a few
 * seconds (see clientMetadataCache).
 */
export function clientMetadataSource(find: (clientId: string) => Promise<ClientRecord | undefined>, clock: Clock) {
  return clientMetadataCache(async (clientId) => {
    const client = await find(clientId);
    if (!client) return undefined;
    return { ...client.metadata, client_id: client.clientId, [CONSENT_PROPERTY]: client.consentRequired, ...(client.mfa ? { [MFA_PROPERTY]: client.mfa } : {}), ...(client.firstSteps ? { [FIRST_STEPS_PROPERTY]: [...client.firstSteps] } : {}) };
  }, { clock });
}
