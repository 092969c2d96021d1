import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { formAction, hiddenValue } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitPassword, type RelyingParty } from '../support/rp.ts';

describe('consent', () => {
  let t: TestApp;
  let thirdParty: RelyingParty;
  let firstParty: RelyingParty;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { smsOtp: { mandatory: false } } });
    await t.addUser('gina', 'ginas-long-password');
    thirdParty = await relyingParty(t, await t.addClient('partner', { consent: true }));
    firstParty = await relyingParty(t, await t.addClient('own-app'));
  });
  afterAll(() => t.close());

  it('asks the user of a third-party client, and remembers the answer', async () => {
    const attempt = await startLogin(thirdParty, { scope: 'openid profile' });
    const consent = pageOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'gina', 'ginas-long-password'));
    expect(consent.html).toContain('asks to:');
    expect(consent.html).toContain('<li data-scope="profile">see your username</li>');
    const allowed = await attempt.browser.submit(new URL(formAction(consent.html), consent.url).toString(), { _csrf: hiddenValue(consent.html, '_csrf') });
    const tokens = await exchange(thirdParty, attempt, callbackOf(allowed));
    expect(tokens.scope).toContain('profile');
    const events = await t.database.db.selectFrom('auth_events').select('event').where('event', '=', 'consent.granted').execute();
    expect(events).toHaveLength(1);
    // Same scopes again: no page.
    const again = await startLogin(thirdParty, { scope: 'openid profile' }, attempt.browser);
    expect(again.visit.callback).toBeTruthy();
  });

  it('returns access_denied when the user denies', async () => {
    const attempt = await startLogin(thirdParty, { scope: 'openid phone' });
    const page = pageOf(attempt.visit);
    const consent = pageOf(await submitPassword(attempt.browser, page, 'gina', 'ginas-long-password'));
    const denied = await attempt.browser.submit(new URL(formAction(consent.html, 1), consent.url).toString(), { _csrf: hiddenValue(consent.html, '_csrf') });
    expect(new URL(callbackOf(denied)).searchParams.get('error')).toBe('access_denied');
  });

  it('never shows a first-party user a consent page, even with prompt=consent', async () => {
    const attempt = await startLogin(firstParty, { scope: 'openid profile offline_access', prompt: 'consent' });
    const result = await submitPassword(attempt.browser, pageOf(attempt.visit), 'gina', 'ginas-long-password');
    const tokens = await exchange(firstParty, attempt, callbackOf(result));
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('runs the login again for prompt=login and max_age', async () => {
    const attempt = await startLogin(firstParty);
    await exchange(firstParty, attempt, callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'gina', 'ginas-long-password')));
    expect((await startLogin(firstParty, {}, attempt.browser)).visit.callback).toBeTruthy();
    const forced = await startLogin(firstParty, { prompt: 'login' }, attempt.browser);
    expect(pageOf(forced.visit).html).toContain('name="password"');
    const aged = await startLogin(firstParty, { max_age: '0' }, attempt.browser);
    expect(pageOf(aged.visit).html).toContain('name="password"');
  });
});

describe('signing and cookie keys', () => {
  it('are generated once, stored, and shared by every instance on the database', async () => {
    const first = await startTestApp({ storedKeys: false, overrides: { smsOtp: { mandatory: false } } });
    const second = await startTestApp({ database: first.database, overrides: { smsOtp: { mandatory: false } } });
    try {
      const jwks = async (issuer: string) => (await fetch(`${issuer}/jwks`)).json() as Promise<{ keys: { kid: string; alg: string; d?: string }[] }>;
      const a = await jwks(first.issuer);
      const b = await jwks(second.issuer);
      expect(a).toEqual(b);
      expect(a.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
      for (const key of a.keys) expect(key.d).toBeUndefined();
      // Not the library's published development key.
      expect(a.keys.map((k) => k.kid)).not.toContain('keystore-CHANGE-ME');
      const stored = await first.database.db.selectFrom('server_secrets').select('name').execute();
      expect(stored.map((r) => r.name).sort()).toEqual(['cookie_keys', 'jwks', 'otp_hmac_key']);

      // A token signed by one instance verifies against the other's discovery.
      await first.addUser('hal', 'hals-long-password');
      const client = await first.addClient('app');
      const rpOnSecond = await relyingParty(second, client);
      const attempt = await startLogin(rpOnSecond);
      const done = await submitPassword(attempt.browser, pageOf(attempt.visit), 'hal', 'hals-long-password');
      const tokens = await exchange(rpOnSecond, attempt, callbackOf(done));
      expect(tokens.claims()!.iss).toBe(second.issuer);
      expect(await oidc.fetchUserInfo(rpOnSecond.config, tokens.access_token, tokens.claims()!.sub)).toMatchObject({ preferred_username: 'hal' });
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('come from the configuration when given', async () => {
    const { generateJwks } = await import('../../src/oidc/keys.ts');
    const jwks = generateJwks();
    const t = await startTestApp({ storedKeys: false, overrides: { keys: { jwks, cookieKeys: ['k'.repeat(40)] } } });
    try {
      const served = (await (await fetch(`${t.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
      expect(served.keys.map((k) => k.kid).sort()).toEqual(jwks.keys.map((k) => k.kid as string).sort());
      expect(await t.database.db.selectFrom('server_secrets').select('name').execute()).toEqual([{ name: 'otp_hmac_key' }]);
    } finally {
      await t.close();
    }
  });
});
