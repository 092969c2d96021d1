import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cookieSigner } from '../../src/oidc/cookie-signer.ts';

// Keygrip is what Koa and the provider use by default; the signer must agree with it exactly.
const Keygrip = createRequire(import.meta.url)('keygrip') as new (keys: string[]) => { sign(d: string): string; index(d: string, s: string): number };

describe('the cookie signer', () => {
  it('signs and verifies like Keygrip, with key rotation', () => {
    const keys = ['newest-key-0123456789abcdefghijkl', 'older-key-0123456789abcdefghijklm'];
    const ours = cookieSigner(keys);
    const theirs = new Keygrip(keys);
    for (const data of ['_session=abc', 'x', 'ünï=🙂']) {
      expect(ours.sign(data)).toBe(theirs.sign(data));
      expect(ours.index(data, theirs.sign(data))).toBe(0);
    }
    const oldSignature = new Keygrip([keys[1]!]).sign('_interaction=uid');
    expect(ours.index('_interaction=uid', oldSignature)).toBe(1);
    expect(ours.verify('_interaction=uid', oldSignature)).toBe(true);
    expect(ours.verify('_interaction=other', oldSignature)).toBe(false);
    expect(ours.verify('_interaction=uid', `${oldSignature}x`)).toBe(false);
    expect(ours.verify('_interaction=uid', '')).toBe(false);
  });
});
