import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { Browser } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { callbackOf, exchange, pageOf, relyingParty, silentSignIn, startLogin, submitPassword, type RelyingParty } from '../support/rp.ts';

const PASSWORD = 'a-long-enough-password';
const HOUR = 3600;
// The longest an old key verifies with the default settings: the session's 24 hours and twice the reload interval.
const KEEP = 86_400 + 120;

describe('keystep keys rotate and a running server', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let rp: RelyingParty;
  let offset = 0;

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => new Date(Date.now() + offset * 1000) }, overrides: { smsOtp: { mandatory: false } } });
    env = { DATABASE_URL: t.database.url };
    rp = await relyingParty(t, await t.addClient('shop'));
    await t.addUser('erin', PASSWORD);
  });
  afterAll(() => t.close());

  type Jwk = { kid: string; alg: string; key_ops?: string[] } & Record<string, unknown>;
  const jwks = async () => (await (await fetch(`${t.issuer}/jwks`)).json()) as { keys: Jwk[] };
  const headerOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };

  async function signIn(): Promise<{ browser: Browser; idToken: string; kid: string }> {
    const attempt = await startLogin(rp);
    const tokens = await exchange(rp, attempt, callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'erin', PASSWORD)));
    return { browser: attempt.browser, idToken: tokens.id_token!, kid: headerOf(tokens.id_token!).kid };
  }

  /** Whether the ID token's RS256 signature checks against a key of the JWKS Keystep publishes now. */
  async function verifies(idToken: string): Promise<boolean> {
    const [header, payload, signature] = idToken.split('.') as [string, string, string];
    const jwk = (await jwks()).keys.find((k) => k.kid === headerOf(idToken).kid);
    if (!jwk || headerOf(idToken).alg !== 'RS256') return false;
    return verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk as never, format: 'jwk' }), Buffer.from(signature, 'base64url'));
  }

  it('publishes a new signing key before it signs, signs with it later, and keeps the old one until its tokens have expired', async () => {
    const before = await signIn();
    const original = (await jwks()).keys;
    expect(original.map((k) => [k.alg, k.key_ops])).toEqual([['RS256', undefined], ['ES256', undefined]]);
    expect(original.map((k) => k.kid)).toContain(before.kid);

    const rotation = await runCli(['keys', 'rotate', '--json'], env);
    expect(rotation.code).toBe(0);
    expect(rotation.stderr).toMatch(/new signing keys are published and sign from/);
    const listed = JSON.parse(rotation.stdout) as { kind: string; id: string; alg: string; state: string }[];
    expect(listed.map((k) => [k.kind, k.alg, k.state])).toEqual([
      ['signing', 'RS256', 'signing'], ['signing', 'RS256', 'next'], ['signing', 'ES256', 'signing'], ['signing', 'ES256', 'next'],
      ['cookie', 'HMAC-SHA1', 'signing'], ['cookie', 'HMAC-SHA1', 'next'],
    ]);
    const next = listed[1]!.id;

    // Published at the next reload, but not signing yet.
    expect(await t.app.reloadKeys()).toBe(true);
    expect(await t.app.reloadKeys()).toBe(false);
    expect((await jwks()).keys.map((k) => [k.kid, k.key_ops])).toEqual([[before.kid, undefined], [next, ['verify']], [expect.any(String), undefined], [expect.any(String), ['verify']]]);
    const published = await signIn();
    expect(published.kid).toBe(before.kid);

    // Once published for keys.publishAheadSeconds, it signs; the old one still verifies.
    offset = HOUR + 10;
    expect(await t.app.reloadKeys()).toBe(true);
    const after = await signIn();
    expect(after.kid).toBe(next);
    expect((await jwks()).keys.find((k) => k.kid === before.kid)).toMatchObject({ key_ops: ['verify'] });
    expect(await verifies(before.idToken)).toBe(true);
    expect(await verifies(after.idToken)).toBe(true);
    // A session cookie signed with the old cookie key still signs the browser in.
    expect(await silentSignIn(rp, published.browser)).toBeUndefined();

    // Past the longest life of what the old keys signed, they are gone: tokens and cookies with them.
    offset = HOUR + KEEP + 10;
    expect(await t.app.reloadKeys()).toBe(true);
    expect((await jwks()).keys.map((k) => k.kid)).not.toContain(before.kid);
    expect(await verifies(before.idToken)).toBe(false);
    expect(await verifies(after.idToken)).toBe(true);
    expect(await silentSignIn(rp, before.browser)).toBe('login_required');
    expect(await silentSignIn(rp, after.browser)).toBeUndefined();
    offset = 0;
  });

  it('lists the keys, and refuses what it cannot do with a clear message', async () => {
    const listed = await runCli(['keys', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/signing.*RS256.*signing/);
    expect(listed.stdout).not.toMatch(/"d"|"p"|"q"/);
    expect(await runCli(['keys', 'rotate', '--drop-old'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--drop-old needs --now/) });
    const configured = { ...env, KEYSTEP_KEYS_COOKIE_KEYS: 'a-configured-cookie-key-of-32-characters' };
    expect(await runCli(['keys', 'rotate'], configured)).toMatchObject({ code: 1, stderr: expect.stringMatching(/keys.cookieKeys/) });
    expect((await runCli(['keys', 'rotate', '--signing', '--now'], configured)).code).toBe(0);
  });

  it('replaces every key at once with --now --drop-old, signing everyone out', async () => {
    const before = await signIn();
    expect((await runCli(['keys', 'rotate', '--now', '--drop-old'], env)).code).toBe(0);
    expect(await t.app.reloadKeys()).toBe(true);
    expect((await jwks()).keys.map((k) => k.key_ops)).toEqual([undefined, undefined]);
    expect(await verifies(before.idToken)).toBe(false);
    expect(await silentSignIn(rp, before.browser)).toBe('login_required');
    expect((await signIn()).kid).not.toBe(before.kid);
  });
});
