import { pbkdf2Sync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { fromWso2Pbkdf2, hashFormat, importedHashProblem, verifyLegacy } from '../../src/login/legacy-hashes.ts';
import { createArgon2Hasher, withLegacyHashes, type PasswordHasher } from '../../src/login/passwords.ts';

const ab64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');

describe('imported password hashes', () => {
  it('verify PBKDF2-SHA256 in passlib\'s form and in WSO2\'s, whose salt is the salt text\'s bytes', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const common = `$pbkdf2-sha256$2000$${ab64(salt)}$${ab64(pbkdf2Sync('pässword-1', salt, 2000, 32, 'sha256'))}`;
    expect(await verifyLegacy(common, 'pässword-1')).toBe(true);
    expect(await verifyLegacy(common, 'pässword-2')).toBe(false);
    const wso2 = fromWso2Pbkdf2(pbkdf2Sync('secret-pw', 'QmFzZTY0U2FsdA==', 10_000, 32, 'sha256').toString('base64'), 'QmFzZTY0U2FsdA==')!;
    expect(wso2).toMatch(/^\$pbkdf2-sha256\$10000\$/);
    expect(await verifyLegacy(wso2, 'secret-pw')).toBe(true);
    expect(await verifyLegacy(wso2, 'Secret-pw')).toBe(false);
    expect(fromWso2Pbkdf2('not base64!', 'salt')).toBeUndefined();
  });

  it('verify bcrypt ($2a$, $2b$, $2y$)', async () => {
    const hash = bcrypt.hashSync('bcrypt-password', 4);
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const variant = prefix + hash.slice(4);
      expect(hashFormat(variant)).toBe('bcrypt');
      expect(await verifyLegacy(variant, 'bcrypt-password')).toBe(true);
    }
    expect(await verifyLegacy(hash, 'bcrypt-passworD')).toBe(false);
  });

  it('refuse hashes Keystep cannot verify and parameters that would make one try cost too much', async () => {
    expect(importedHashProblem('5f4dcc3b5aa765d61d8327deb882cf99')).toMatch(/not a password hash Keystep can verify/);
    expect(importedHashProblem(`$pbkdf2-sha256$900000000$${ab64(Buffer.alloc(8))}$${ab64(Buffer.alloc(32))}`)).toMatch(/iterations/);
    expect(importedHashProblem(`$2b$31$${'a'.repeat(53)}`)).toMatch(/bcrypt cost 31/);
    expect(importedHashProblem('$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toMatch(/argon2 parameters/);
    // Refused before any work, so a stored hash like that costs nothing at sign-in either.
    expect(await verifyLegacy(`$pbkdf2-sha256$900000000$${ab64(Buffer.alloc(8))}$${ab64(Buffer.alloc(32))}`, 'x')).toBe(false);
  });

  it('bound the work of one try to about a second whatever the format, bcrypt\'s on the thread that serves every request', () => {
    // bcrypt runs in JavaScript: cost 14 took 2.4 s of the event loop's thread per try, 16 about 10 s.
    expect(importedHashProblem(`$2b$13$${'a'.repeat(53)}`)).toBeUndefined();
    expect(importedHashProblem(`$2b$14$${'a'.repeat(53)}`)).toMatch(/bcrypt cost 14/);
    expect(importedHashProblem(`$2b$16$${'a'.repeat(53)}`)).toMatch(/bcrypt cost 16/);
    // argon2 by memory times passes: 256 MiB once to four times, or 64 MiB three times (RFC 9106), but not 256 MiB sixteen times (3 s).
    expect(importedHashProblem('$argon2id$v=19$m=262144,t=4,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBeUndefined();
    expect(importedHashProblem('$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBeUndefined();
    expect(importedHashProblem('$argon2i$v=19$m=262144,t=16,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toMatch(/argon2 parameters/);
    expect(importedHashProblem('$argon2id$v=19$m=131072,t=9,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toMatch(/argon2 parameters/);
  });

  it('count PBKDF2\'s work per block of the hash, so a long hash cannot multiply the iterations allowed', async () => {
    // Each 32 bytes of a PBKDF2-SHA256 hash cost the iterations again: 4,000,000 for 32 bytes is
    // within the bound, the same for 64 bytes is twice it, and 64 KiB would be 2,048 times it.
    const within = `$pbkdf2-sha256$4000000$${ab64(Buffer.alloc(16))}$${ab64(Buffer.alloc(32))}`;
    expect(importedHashProblem(within)).toBeUndefined();
    const twice = `$pbkdf2-sha256$4000000$${ab64(Buffer.alloc(16))}$${ab64(Buffer.alloc(64))}`;
    expect(importedHashProblem(twice)).toMatch(/PBKDF2/);
    const long = `$pbkdf2-sha256$10000$${ab64(Buffer.alloc(16))}$${ab64(Buffer.alloc(65_536))}`;
    expect(importedHashProblem(long)).toMatch(/PBKDF2/);
    // Refused before any work: hashing it would take seconds (2,048 blocks of 10,000 iterations).
    const started = performance.now();
    expect(await verifyLegacy(long, 'x')).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
    // A salt of any length is one more HMAC input, but not a megabyte of it.
    expect(importedHashProblem(`$pbkdf2-sha256$10000$${ab64(Buffer.alloc(1_000_000))}$${ab64(Buffer.alloc(32))}`)).toMatch(/PBKDF2/);
  });

  it('cost an imported account the dummy argon2id too, and ask for a new hash unless it is argon2id', async () => {
    const calls = { verify: 0, dummy: 0 };
    const base: PasswordHasher = {
      hash: async (p) => `$argon2id$${p}`,
      verify: async () => { calls.verify++; return true; },
      verifyDummy: async () => { calls.dummy++; },
    };
    const hasher = withLegacyHashes(base);
    expect(await hasher.verify(bcrypt.hashSync('pw-for-bcrypt', 4), 'pw-for-bcrypt')).toBe(true);
    expect(calls).toEqual({ verify: 0, dummy: 1 });
    expect(await hasher.verify('$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', 'x')).toBe(true);
    expect(calls).toEqual({ verify: 1, dummy: 1 });
    expect(hasher.needsRehash!('$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBe(false);
    expect(hasher.needsRehash!('$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBe(true);
    expect(hasher.needsRehash!(bcrypt.hashSync('x', 4))).toBe(true);
  });

  it('renews an argon2id hash weaker than Keystep\'s own (m=19 MiB, t=2), and not Keystep\'s own', async () => {
    const keystep = createArgon2Hasher(1);
    expect(keystep.needsRehash!(await keystep.hash('a-long-password'))).toBe(false);
    expect(keystep.needsRehash!('$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBe(false);
    expect(keystep.needsRehash!('$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBe(true);
    expect(keystep.needsRehash!('$argon2id$v=19$m=19456,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBe(true);
  });
});
