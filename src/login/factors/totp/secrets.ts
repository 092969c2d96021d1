import type { KeyObject } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { seal, unseal } from '../../../shared/keys.ts';
import type { Random } from '../../../shared/random.ts';

// What every authenticator app supports (RFC 6238's defaults): other values are silently ignored by some.
const ALGORITHM = 'SHA1';
const DIGITS = 6;
const PERIOD_SECONDS = 30;
// One step either side: a phone clock off by up to 30 s, or a code typed as it changed.
const WINDOW = 1;
// 160 bits, the HMAC-SHA1 key size RFC 4226 recommends.
const SECRET_BYTES = 20;

/** A fresh secret, in base32 (what the apps take). */
export function newTotpSecret(random: Random): string {
  return new Secret({ buffer: new Uint8Array(random.bytes(SECRET_BYTES)).buffer }).base32;
}

/** The `otpauth://` URI an app scans: the service as issuer, the username as the account name. */
export function totpUri(secret: string, issuer: string, username: string): string {
  return new TOTP({ issuer, label: username, secret: Secret.fromBase32(secret), algorithm: ALGORITHM, digits: DIGITS, period: PERIOD_SECONDS }).toString();
}

/** The secret in groups of four, for typing it in by hand. */
export function groupedSecret(secret: string): string {
  return secret.match(/.{1,4}/g)!.join(' ');
}

/** The time step of the code at `now`, or undefined when it is not the code of a step within the window. */
export function matchingStep(secret: string, input: string, now: Date): number | undefined {
  const token = input.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(token)) return undefined;
  const timestamp = now.getTime();
  const delta = TOTP.validate({ token, secret: Secret.fromBase32(secret), algorithm: ALGORITHM, digits: DIGITS, period: PERIOD_SECONDS, timestamp, window: WINDOW });
  return delta === null ? undefined : TOTP.counter({ period: PERIOD_SECONDS, timestamp }) + delta;
}

// At rest the secret is bound to its account (a sealed secret copied to another account's row does
// not open); waiting for its first code it is bound to the account change as well.
const atRest = (accountId: string) => `totp:${accountId}`;
const pending = (changeUid: string, accountId: string) => `totp-pending:${changeUid}:${accountId}`;

export const sealSecret = (key: KeyObject, secret: string, accountId: string) => seal(key, secret, atRest(accountId));
export const unsealSecret = (key: KeyObject, sealed: string, accountId: string) => unseal(key, sealed, atRest(accountId));
export const sealPending = (key: KeyObject, secret: string, changeUid: string, accountId: string) => seal(key, secret, pending(changeUid, accountId));
export const unsealPending = (key: KeyObject, sealed: string, changeUid: string, accountId: string) => unseal(key, sealed, pending(changeUid, accountId));
