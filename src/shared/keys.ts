import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';

/** The purposes Keystep derives from its secret (which itself keys the HMAC of SMS codes): no key does two jobs. */
export type KeyPurpose = 'form-tokens' | 'shown-once' | 'totp-secrets' | 'sms-numbers' | 'upstream-secrets';

/** A key for one purpose, derived from the server's secret with HKDF-SHA256 (RFC 5869). */
export function purposeKey(secret: KeyObject, purpose: KeyPurpose): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `keystep/${purpose}`, 32)));
}

/**
 * Seals a small value with AES-256-GCM, bound to `context` (what it belongs to): what is stored is
 * useless without the key, and a sealed value moved to another context does not open.
 */
export function seal(key: KeyObject, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed value, or undefined when it was not sealed with this key for this context. */
export function unseal(key: KeyObject, sealed: string, context: string): string | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 28) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
