import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether a secret someone sent is the expected one, in time that tells nothing of either (both hashed to one length first). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
