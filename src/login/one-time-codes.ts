import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Random } from '../shared/random.ts';

// Upper-case letters and digits without the look-alikes O/0 and I/1: 32 symbols, 5 bits each.
export const ALPHANUMERIC_SYMBOLS = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A code drawn uniformly from the whole space of its length (CSPRNG via Random). */
export function generateCode(random: Random, length: number, alphanumeric: boolean): string {
  if (alphanumeric) {
    let code = '';
    for (let i = 0; i < length; i++) code += ALPHANUMERIC_SYMBOLS[random.int(ALPHANUMERIC_SYMBOLS.length)];
    return code;
  }
  return String(random.int(10 ** length)).padStart(length, '0');
}

/** What the user typed, without spaces or dashes, upper-cased for alphanumeric codes. */
export function normalizeCode(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

/**
 * The stored form of a code: an HMAC keyed by a server secret over the login's uid and the code,
 * so a code is bound to the login it was sent for and the table alone does not reveal it. With the
 * key kept outside the database (`keys.otpHmacKey`) a database reader cannot test guesses either.
 * The key is a KeyObject: Node prepares a Buffer key anew on every HMAC, several times slower.
 */
export function codeHmac(key: KeyObject, flowUid: string, code: string): string {
  return createHmac('sha256', key).update(`${flowUid}\u0000${code}`).digest('base64url');
}

export function codeMatches(key: KeyObject, flowUid: string, code: string, expectedHmac: string): boolean {
  const given = Buffer.from(codeHmac(key, flowUid, normalizeCode(code)));
  const expected = Buffer.from(expectedHmac);
  // Constant time: how much of a guess was right must not show in the response time.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
