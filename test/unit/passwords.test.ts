import { describe, expect, it } from 'vitest';
import { checkNewPassword, createArgon2Hasher } from '../../src/login/passwords.ts';

const rules = { minLength: 8, maxLength: 64 };

describe('passwords', () => {
  it('hashes with argon2id m=19 MiB, t=2, p=1 and stores the parameters with the hash', async () => {
    const hasher = createArgon2Hasher();
    const hash = await hasher.hash('a-long-enough-password');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(hash, 'a-long-enough-password')).toBe(true);
    expect(await hasher.verify(hash, 'a-long-enough-passworD')).toBe(false);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
  });

  it('queues hashes beyond its concurrency and answers each one right', async () => {
    const hasher = createArgon2Hasher(1);
    const hash = await hasher.hash('a-long-enough-password');
    const answers = await Promise.all([
      hasher.verify(hash, 'a-long-enough-password'),
      hasher.verify(hash, 'wrong-password'),
      hasher.verify('not a hash', 'x'),
      hasher.verifyDummy('anything').then(() => 'dummy'),
      hasher.verify(hash, 'a-long-enough-password'),
    ]);
    expect(answers).toEqual([true, false, false, 'dummy', true]);
  });

  it('accepts 8 to maxLength characters with no composition rules', () => {
    expect(checkNewPassword('short', rules)).toBe('TOO_SHORT');
    expect(checkNewPassword('plainlowercase words', rules)).toBeUndefined();
    expect(checkNewPassword('x'.repeat(64), rules)).toBeUndefined();
    expect(checkNewPassword('x'.repeat(65), rules)).toBe('TOO_LONG');
    // Length counts characters, not UTF-16 units.
    expect(checkNewPassword('🔑🔑🔑🔑🔑🔑🔑🔑', rules)).toBeUndefined();
  });

  it('refuses common passwords and control characters', () => {
    expect(checkNewPassword('password', rules)).toBe('TOO_COMMON');
    expect(checkNewPassword('Password1', { ...rules })).toBe('TOO_COMMON');
    expect(checkNewPassword('qwertyuiop', rules)).toBe('TOO_COMMON');
    expect(checkNewPassword('abc\u0000defghij', rules)).toBe('INVALID_CHARACTERS');
  });
});
