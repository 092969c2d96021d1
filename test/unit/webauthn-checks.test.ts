import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PasskeyCredential } from '../../src/login/factors/passkey/ports.ts';
import { webAuthnRelyingParty } from '../../src/login/factors/passkey/webauthn.ts';
import { cryptoRandom } from '../../src/shared/random.ts';
import { softwareAuthenticator } from '../support/software-authenticator.ts';

// The server's WebAuthn checks against real signatures (a software authenticator), each response
// wrong in exactly one way: the origin, the challenge, the relying party, the signature, the counter.
const ISSUER = 'https://login.example.test';
const ORIGIN = 'https://login.example.test';
const rp = webAuthnRelyingParty(ISSUER, 'Keystep', cryptoRandom);

async function registered(backedUp = false) {
  const authenticator = softwareAuthenticator({ rpId: 'login.example.test', backedUp });
  const challenge = rp.challenge();
  const created = await rp.verifyRegistration(authenticator.register({ challenge, origin: ORIGIN }), challenge);
  expect(created).toMatchObject({ id: authenticator.credentialId, counter: 0, backedUp });
  const credential: PasskeyCredential = {
    ...created!, accountId: 'a', name: 'test', createdAt: new Date(), lastUsedAt: null,
  };
  return { authenticator, credential };
}

describe('the WebAuthn checks', () => {
  it('registers a passkey only from the issuer\'s origin, for its challenge and relying party', async () => {
    const authenticator = softwareAuthenticator({ rpId: 'login.example.test' });
    const challenge = rp.challenge();
    expect(await rp.verifyRegistration(authenticator.register({ challenge, origin: 'https://login.example.test.evil.example' }), challenge)).toBeUndefined();
    expect(await rp.verifyRegistration(authenticator.register({ challenge: rp.challenge(), origin: ORIGIN }), challenge)).toBeUndefined();
    expect(await rp.verifyRegistration(authenticator.register({ challenge, origin: ORIGIN, rpId: 'example.test' }), challenge)).toBeUndefined();
    expect(await rp.verifyRegistration('{"id":"x"}', challenge)).toBeUndefined();
    expect(await rp.verifyRegistration('not json', challenge)).toBeUndefined();
    expect(await rp.verifyRegistration(authenticator.register({ challenge, origin: ORIGIN }), challenge)).toMatchObject({ id: authenticator.credentialId });
  });

  it('accepts an assertion from the issuer\'s origin for its challenge, and says whether the passkey is synced', async () => {
    const { authenticator, credential } = await registered();
    const challenge = rp.challenge();
    expect(await rp.verifyAuthentication(authenticator.assert({ challenge, origin: ORIGIN, counter: 1 }), challenge, credential)).toEqual({ counter: 1, backedUp: false });
    const synced = await registered(true);
    expect(await rp.verifyAuthentication(synced.authenticator.assert({ challenge, origin: ORIGIN, counter: 0 }), challenge, synced.credential)).toEqual({ counter: 0, backedUp: true });
  });

  it('refuses an assertion for another origin, another challenge, another relying party, or signed by another key', async () => {
    const { authenticator, credential } = await registered();
    const challenge = rp.challenge();
    const refused = [
      authenticator.assert({ challenge, origin: 'https://phish.example', counter: 1 }),
      authenticator.assert({ challenge: rp.challenge(), origin: ORIGIN, counter: 1 }),
      authenticator.assert({ challenge, origin: ORIGIN, rpId: 'phish.example', counter: 1 }),
      authenticator.assert({ challenge, origin: ORIGIN, counter: 1, key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }),
    ];
    for (const response of refused) expect(await rp.verifyAuthentication(response, challenge, credential)).toBeUndefined();
    expect(rp.credentialIdOf(refused[0]!)).toBe(authenticator.credentialId);
  });

  it('refuses a replayed assertion and a counter that goes back', async () => {
    const { authenticator, credential } = await registered();
    const challenge = rp.challenge();
    const response = authenticator.assert({ challenge, origin: ORIGIN, counter: 5 });
    const first = await rp.verifyAuthentication(response, challenge, credential);
    expect(first).toEqual({ counter: 5, backedUp: false });
    // The store now holds 5: the same assertion again, or an older counter, proves nothing.
    const after = { ...credential, counter: first!.counter };
    expect(await rp.verifyAuthentication(response, challenge, after)).toBeUndefined();
    expect(await rp.verifyAuthentication(authenticator.assert({ challenge, origin: ORIGIN, counter: 4 }), challenge, after)).toBeUndefined();
    expect(await rp.verifyAuthentication(authenticator.assert({ challenge, origin: ORIGIN, counter: 6 }), challenge, after)).toEqual({ counter: 6, backedUp: false });
  });

  it('reads only base64url credential ids and known transports from what a browser posts', async () => {
    const { authenticator, credential } = await registered();
    const challenge = rp.challenge();
    const good = JSON.parse(authenticator.assert({ challenge, origin: ORIGIN, counter: 1 })) as { id: string };
    for (const id of ['\u0000', 'a\u0000b', 'x'.repeat(1365), '', 'not base64url!']) {
      const forged = JSON.stringify({ ...good, id, rawId: id });
      expect(rp.credentialIdOf(forged)).toBeUndefined();
      expect(await rp.verifyAuthentication(forged, challenge, credential)).toBeUndefined();
    }
    const registration = rp.challenge();
    const odd = softwareAuthenticator({ rpId: 'login.example.test' });
    const created = await rp.verifyRegistration(odd.register({ challenge: registration, origin: ORIGIN, transports: ['\u0000', 'usb', 'usb', 'x'.repeat(5000), 'internal', 'warp-drive'] }), registration);
    expect(created?.transports).toEqual(['usb', 'internal']);
  });
});
