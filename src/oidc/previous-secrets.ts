import { createHash, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Clock } from '../shared/clock.ts';

/**
 * A client's earlier secrets during the grace period of `keystep client rotate-secret`: kept in its
 * metadata as SHA-256 hashes (a secret is 256 random bits, so a plain hash reveals nothing) with
 * the second each one stops working.
 */
export const PREVIOUS_SECRETS_PROPERTY = 'keystep_previous_secrets';

export interface PreviousSecret {
  sha256: string;
  /** Seconds since the epoch. */
  expires_at: number;
}

const sha256 = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

export function previousSecret(secret: string, expiresAt: Date): PreviousSecret {
  return { sha256: sha256(secret).toString('hex'), expires_at: Math.floor(expiresAt.getTime() / 1000) };
}

export function isPreviousSecrets(value: unknown): value is PreviousSecret[] {
  return Array.isArray(value) && value.every((p) => p && typeof p === 'object'
    && typeof p.sha256 === 'string' && /^[0-9a-f]{64}$/.test(p.sha256) && Number.isSafeInteger(p.expires_at));
}

/** The earlier secrets still within their grace period at `now`. */
export function livePreviousSecrets(value: unknown, now: Date): PreviousSecret[] {
  return isPreviousSecrets(value) ? value.filter((p) => p.expires_at * 1000 > now.getTime()) : [];
}

function matchesPrevious(value: unknown, actual: string, now: Date): boolean {
  const given = sha256(actual);
  // Every live entry is compared, so the time taken says nothing about which one matched.
  return livePreviousSecrets(value, now).reduce((found, p) => timingSafeEqual(given, Buffer.from(p.sha256, 'hex')) || found, false);
}

/**
 * Client authentication (`client_secret_basic`, `client_secret_post`) takes the current secret or,
 * until it expires, an earlier one. oidc-provider compares secrets in `Client#compareClientSecret`
 * alone; this provider's own Client class gets the wider compare.
 */
export function acceptPreviousSecrets(provider: Provider, clock: Clock): void {
  const prototype = provider.Client.prototype;
  const current = prototype.compareClientSecret;
  prototype.compareClientSecret = async function compareClientSecret(this: InstanceType<Provider['Client']>, actual: string) {
    if (await current.call(this, actual)) return true;
    return typeof actual === 'string' && matchesPrevious((this as unknown as Record<string, unknown>)[PREVIOUS_SECRETS_PROPERTY], actual, clock.now());
  };
}
