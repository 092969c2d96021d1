import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { liveEntries, ringAt, type KeyAt, type RingEntry } from './keyring.ts';

type Jwk = Record<string, unknown>;

export interface ProviderKeys {
  jwks: { keys: Jwk[] };
  cookieKeys: string[];
}

/** Where generated keys are kept so every instance and restart uses the same ones. */
export interface SecretStore {
  getOrCreate<T>(name: string, generate: () => T | Promise<T>): Promise<T>;
}

/** A store that can also change a kept value, one change at a time across instances. */
export interface RotatingSecretStore extends SecretStore {
  update<T>(name: string, change: (current: T) => T): Promise<T | undefined>;
}

// The stored forms, as before rotation (a JWK set; a list of cookie keys, newest first) plus the
// second each key signs from: `keystep_signs_from` in a JWK, `{ key, signs_from }` for a cookie key.
// A key without it is one of the keys made before keys rotated, which signed from the start.
const SIGNS_FROM = 'keystep_signs_from';
type StoredJwks = { keys: Jwk[] };
type StoredCookieKey = string | { key: string; signs_from: number };

export function generateJwks(signsFrom?: number): StoredJwks {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const when = signsFrom === undefined ? {} : { [SIGNS_FROM]: signsFrom };
  return {
    keys: [
      { ...rsa, kid: randomUUID(), alg: 'RS256', use: 'sig', ...when },
      { ...ec, kid: randomUUID(), alg: 'ES256', use: 'sig', ...when },
    ],
  };
}

export function generateCookieKeys(): string[] {
  return [randomBytes(32).toString('base64url')];
}

/** How long keys stay published ahead, and kept after, a rotation (seconds). */
export interface KeyTimes {
  /** A new signing key is in the JWKS this long before it signs. */
  publishAhead: number;
  /** A new cookie key verifies this long before it signs: every instance has read it by then. */
  cookieAhead: number;
  /** A signing key that was replaced verifies this long: the longest an ID token it signed is used. */
  keepSigning: number;
  /** A cookie key that was replaced verifies this long: the longest a session cookie lives. */
  keepCookie: number;
}

/**
 * From the settings. An ID token is used as long as it lives, and as an `id_token_hint` as long as
 * the session it came from; every instance must have read a change, so twice the reload interval
 * is added on both sides.
 */
export function keyTimes(config: Config): KeyTimes {
  const reload = 2 * config.keys.reloadSeconds;
  const { tokens, session } = config;
  return {
    publishAhead: Math.max(config.keys.publishAheadSeconds, reload),
    cookieAhead: reload,
    keepSigning: Math.max(tokens.idTokenTtlSeconds, tokens.accessTokenTtlSeconds, session.ttlSeconds) + reload,
    keepCookie: session.ttlSeconds + reload,
  };
}

const signingEntries = (stored: StoredJwks): RingEntry<Jwk>[] =>
  stored.keys.map((k) => ({ material: k, signsFrom: typeof k[SIGNS_FROM] === 'number' ? k[SIGNS_FROM] : 0 }));
const cookieEntries = (stored: StoredCookieKey[]): RingEntry<string>[] =>
  stored.map((k) => (typeof k === 'string' ? { material: k, signsFrom: 0 } : { material: k.key, signsFrom: k.signs_from }));
const algOf = (jwk: Jwk) => String(jwk.alg ?? jwk.kty);

export function signingKeysAt(stored: StoredJwks, now: number, times: KeyTimes): KeyAt<Jwk>[] {
  return ringAt(signingEntries(stored), now, times.keepSigning, algOf);
}

export function cookieKeysAt(stored: StoredCookieKey[], now: number, times: KeyTimes): KeyAt<string>[] {
  return ringAt(cookieEntries(stored), now, times.keepCookie, () => 'cookie');
}

/** A key for the provider: only the signing one of its group may sign (`key_ops`), the others verify. */
function forProvider(key: KeyAt<Jwk>): Jwk {
  const { [SIGNS_FROM]: _signsFrom, key_ops: _ops, ...jwk } = key.material;
  return key.state === 'signing' ? jwk : { ...jwk, key_ops: ['verify'] };
}

/** A cookie key named without showing it (for `keys list`). */
export const cookieKeyId = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 12);

/** The keys as the provider takes them at `now`: configured ones as they are, stored ones as their rotation stands. */
export async function resolveProviderKeys(
  configured: { jwks?: { keys: Jwk[] }; cookieKeys?: string[] },
  store: SecretStore,
  now: Date,
  times: KeyTimes,
): Promise<ProviderKeys> {
  const seconds = Math.floor(now.getTime() / 1000);
  const jwks = configured.jwks ?? { keys: signingKeysAt(await store.getOrCreate<StoredJwks>('jwks', () => generateJwks()), seconds, times).map(forProvider) };
  const cookieKeys = configured.cookieKeys
    ?? cookieKeysAt(await store.getOrCreate<StoredCookieKey[]>('cookie_keys', generateCookieKeys), seconds, times).map((k) => k.material);
  return { jwks, cookieKeys };
}

/**
 * `keystep keys rotate`: new signing keys (one per algorithm) and a new cookie key, each signing
 * from `signsFrom` (seconds); keys past their retirement are dropped, and with `dropOld` every key
 * but the new ones.
 */
export async function rotateKeys(store: RotatingSecretStore, options: { signing: boolean; cookies: boolean; now: number; signsFrom: { signing: number; cookie: number }; dropOld: boolean; times: KeyTimes }): Promise<void> {
  const { now, times, dropOld } = options;
  if (options.signing) {
    await store.getOrCreate<StoredJwks>('jwks', () => generateJwks());
    const fresh = generateJwks(options.signsFrom.signing).keys;
    await store.update<StoredJwks>('jwks', (current) => ({
      keys: [...fresh, ...(dropOld ? [] : liveEntries(signingEntries(current), now, times.keepSigning, algOf).map((e) => e.material))],
    }));
  }
  if (options.cookies) {
    await store.getOrCreate<StoredCookieKey[]>('cookie_keys', generateCookieKeys);
    const fresh = { key: generateCookieKeys()[0]!, signs_from: options.signsFrom.cookie };
    await store.update<StoredCookieKey[]>('cookie_keys', (current) => [
      fresh, ...(dropOld ? [] : liveEntries(cookieEntries(current), now, times.keepCookie, () => 'cookie').map((e) => ({ key: e.material, signs_from: e.signsFrom }))),
    ]);
  }
}

/** What `keystep keys list` shows. */
export async function describeKeys(store: SecretStore, now: Date, times: KeyTimes) {
  const seconds = Math.floor(now.getTime() / 1000);
  const at = (s: number | undefined) => (s === undefined ? null : new Date(s * 1000).toISOString());
  const signing = signingKeysAt(await store.getOrCreate<StoredJwks>('jwks', () => generateJwks()), seconds, times);
  const cookies = cookieKeysAt(await store.getOrCreate<StoredCookieKey[]>('cookie_keys', generateCookieKeys), seconds, times);
  return [
    ...signing.map((k) => ({ kind: 'signing', id: String(k.material.kid), alg: k.group, state: k.state, signs_from: at(k.signsFrom), retires_at: at(k.retiresAt) })),
    ...cookies.map((k) => ({ kind: 'cookie', id: cookieKeyId(k.material), alg: 'HMAC-SHA1', state: k.state, signs_from: at(k.signsFrom), retires_at: at(k.retiresAt) })),
  ];
}
