import { createHmac, createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalBackupCode, generateBackupCodes } from '../../src/login/factors/backup-code/codes.ts';
import { ALPHANUMERIC_SYMBOLS, codeHmac, codeMatches, generateCode, normalizeCode } from '../../src/login/one-time-codes.ts';
import type { OtpChallenge } from '../../src/login/sms-codes/ports.ts';
import { resendWait, smsText } from '../../src/login/sms-codes/sending.ts';
import { cryptoRandom, type Random } from '../../src/shared/random.ts';

/** Randomness that replays a list of integers (and counts what was asked). */
function scripted(values: number[]): Random & { bounds: number[] } {
  const bounds: number[] = [];
  return {
    bounds,
    bytes: (n) => Buffer.alloc(n, 7),
    int: (max) => { bounds.push(max); return values.shift()! % max; },
  };
}

describe('codes', () => {
  it('draws a numeric code uniformly over the whole space, keeping leading zeros', () => {
    const random = scripted([42]);
    expect(generateCode(random, 6, false)).toBe('000042');
    expect(random.bounds).toEqual([1_000_000]);
    const ten = scripted([9_999_999_999]);
    expect(generateCode(ten, 10, false)).toBe('9999999999');
    expect(ten.bounds).toEqual([10_000_000_000]);
  });

  it('draws alphanumeric codes from 32 symbols without look-alikes', () => {
    expect(ALPHANUMERIC_SYMBOLS).toHaveLength(32);
    for (const c of 'O0I1') expect(ALPHANUMERIC_SYMBOLS).not.toContain(c);
    const random = scripted([0, 31, 8, 23]);
    expect(generateCode(random, 4, true)).toBe('A9JZ');
    expect(random.bounds).toEqual([32, 32, 32, 32]);
  });

  it('gives real codes the right shape and spread', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = generateCode(cryptoRandom, 6, false);
      expect(code).toMatch(/^\d{6}$/);
      seen.add(code);
    }
    expect(seen.size).toBeGreaterThan(190);
  });

  it('stores an HMAC bound to the login, compared after normalising the input', () => {
    const key = createSecretKey(Buffer.alloc(32, 1));
    const stored = codeHmac(key, 'uid-1', '123456');
    expect(stored).not.toContain('123456');
    // The same HMAC-SHA256 over uid, NUL and code as a plain key gives: stored codes stay valid.
    expect(stored).toBe(createHmac('sha256', Buffer.alloc(32, 1)).update('uid-1\u0000123456').digest('base64url'));
    expect(codeMatches(key, 'uid-1', ' 123 456 ', stored)).toBe(true);
    expect(codeMatches(key, 'uid-1', '123457', stored)).toBe(false);
    expect(codeMatches(key, 'uid-2', '123456', stored)).toBe(false);
    expect(codeMatches(createSecretKey(Buffer.alloc(32, 2)), 'uid-1', '123456', stored)).toBe(false);
    expect(codeMatches(key, 'uid-1', '', stored)).toBe(false);
    expect(normalizeCode('ab-c d')).toBe('ABCD');
  });

  it('makes backup codes of 50 bits and accepts them in any case, with or without the dash', () => {
    // The space: every code asks for ten draws of 32, and each draw picks its own symbol. Draw p of
    // code k is (k + 7p) mod 32, so over 32 codes every position sees every draw.
    const counting = scripted(Array.from({ length: 320 }, (_, i) => (Math.floor(i / 10) + 7 * (i % 10)) % 32));
    const codes = generateBackupCodes(counting, 32);
    expect(counting.bounds).toEqual(Array(320).fill(32));
    const bitsPerCode = counting.bounds.slice(0, 10).reduce((bits, bound) => bits + Math.log2(bound), 0);
    expect(bitsPerCode).toBe(50);
    for (let position = 0; position < 10; position++) {
      const symbols = new Set(codes.map((code) => code.replace('-', '')[position]));
      expect(symbols.size, `symbols at position ${position}`).toBe(32);
    }
    expect(new Set(codes.map((c) => c.replace('-', ''))).size).toBe(32);

    const code = codes[5]!;
    expect(canonicalBackupCode(code.toLowerCase())).toBe(code.replace('-', ''));
    expect(canonicalBackupCode(` ${code.replace('-', ' ')} `)).toBe(code.replace('-', ''));
    expect(canonicalBackupCode('ABCDE-FGHI0')).toBeUndefined();
    expect(canonicalBackupCode('short')).toBeUndefined();
  });

  it('spreads real backup codes evenly over the symbols and never repeats one', () => {
    const codes = Array.from({ length: 100 }, () => generateBackupCodes(cryptoRandom)).flat();
    expect(codes).toHaveLength(1000);
    const counts = new Map<string, number>();
    for (const code of codes) {
      expect(code).toMatch(/^[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$/);
      for (const symbol of code.replace('-', '')) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe([...ALPHANUMERIC_SYMBOLS].sort().join(''));
    // Pearson's chi-square over 10,000 symbols (31 degrees of freedom): above 100 by chance about once in
    // 10^8 runs; a symbol drawn twice as often as the others scores over 300.
    const expected = 10_000 / 32;
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(100);
    // 1000 draws from 2^50 collide by chance about once in 2 * 10^9 runs.
    expect(new Set(codes).size).toBe(1000);
  });
});

describe('the SMS text and the resend wait', () => {
  it('fills the template literally, whatever the values hold', () => {
    const text = smsText("Your {service} code is {code}. It expires in {minutes} minutes.\n\n@{host} #{code}", { code: '482913', service: 'Acme $1 $&', minutes: 5, host: 'login.acme.example' });
    expect(text).toBe('Your Acme $1 $& code is 482913. It expires in 5 minutes.\n\n@login.acme.example #482913');
  });

  it('doubles the cooldown with each resend and waives it after a failed send', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const challenge = (sends: number, lastSend: OtpChallenge['lastSend'] = 'sent'): OtpChallenge => ({
      flowUid: 'u', accountId: 'a', destination: '+1', codeHmac: 'h', expiresAt: at, attempts: 0, sends, lastSentAt: at, lastSend, consumed: false,
    });
    expect(resendWait(challenge(1), at, 30)).toBe(30);
    expect(resendWait(challenge(2), at, 30)).toBe(60);
    expect(resendWait(challenge(3), new Date(at.getTime() + 100_000), 30)).toBe(20);
    expect(resendWait(challenge(3, 'failed'), at, 30)).toBe(0);
    expect(resendWait(challenge(3, 'refused'), at, 30)).toBe(0);
    // It may still arrive: the cooldown holds.
    expect(resendWait(challenge(1, 'uncertain'), at, 30)).toBe(30);
  });
});
