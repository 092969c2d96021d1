import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientRepository } from '../../src/repositories/clients.ts';
import { passkeyCredentialRepository } from '../../src/repositories/passkey-credentials.ts';
import type { StoredUpstreamProvider } from '../../src/repositories/upstream-providers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { AuditedPage, finishAudited } from '../support/audited-page.ts';
import { launchChromium } from '../support/chromium.ts';
import { CallbackServer } from '../support/rp-callback.ts';
import { authorizationRequest, exchange, relyingParty, type AuthorizationRequest, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock } from '../support/sms.ts';
import { allTexts, untranslated } from '../support/texts.ts';
import { storedUpstreams, Upstream } from '../support/upstream.ts';

const PROVIDERS = { acme: 'Acme SSO', corp: 'Corp Login' } as const;

// The ways in beside the password, in Chromium, every page audited (axe-core, console, CSP,
// <html lang>) and read for English left on a German or French page: an upstream provider's
// "Continue with" on the password page (its refusal, then through it), the page of a client whose
// only ways in are upstream providers, the account page's "Other ways to sign in", and the two
// passkey pages of a login.
describe('other ways to sign in, in Chromium, every page audited', () => {
  let t: TestApp;
  let app: CallbackServer;
  let upstream: Upstream;
  let withUpstream: RelyingParty;
  let upstreamsOnly: RelyingParty;
  let plain: RelyingParty;
  let chromium: Browser;
  let audited: AuditedPage;
  const sms = new RecordingSender();
  const clock = new TestClock(new Date('2030-01-01T09:00:00Z').getTime());
  let users = 0;

  beforeAll(async () => {
    [chromium, app, t] = await Promise.all([
      launchChromium(),
      CallbackServer.start(),
      startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { sms: { defaultCountry: 'GB' }, federation: { timeoutMs: 2000 } } }),
    ]);
    upstream = await Upstream.start(() => [{ clientId: 'keystep', clientSecret: 'keystep-upstream-secret', redirectUris: Object.keys(PROVIDERS).map((n) => `${t.issuer}/federation/${n}/callback`) }]);
    for (const [name, displayName] of Object.entries(PROVIDERS)) {
      const provider: StoredUpstreamProvider = {
        name, displayName, issuer: upstream.issuer, clientId: 'keystep', clientSecret: 'keystep-upstream-secret', scope: 'openid profile',
        usecase: 'local', userAttribute: undefined, domains: ['primary'], mobileClaim: undefined, jit: false,
      };
      await (await storedUpstreams(t)).insert(provider);
    }
    const clients = clientRepository(t.database.db);
    withUpstream = await relyingParty(t, await t.addClient('upstream-app', { redirectUris: [app.redirectUri] }));
    await clients.setFirstSteps('upstream-app', ['password', 'idp:acme']);
    upstreamsOnly = await relyingParty(t, await t.addClient('upstreams-only-app', { redirectUris: [app.redirectUri] }));
    await clients.setFirstSteps('upstreams-only-app', ['idp:acme', 'idp:corp']);
    plain = await relyingParty(t, await t.addClient('plain-app', { redirectUris: [app.redirectUri] }));
  });
  afterAll(async () => {
    await chromium?.close();
    await app?.close();
    await upstream?.close();
    await t?.close();
  });
  beforeEach(() => {
    // Fresh SMS budgets for every case.
    clock.advance(7200);
  });
  afterEach(() => finishAudited(audited));

  /** A new user with a number, known to the upstream under its own subject; the audited page at the app's request. */
  async function start(client: RelyingParty, language = 'en') {
    const n = ++users;
    const user = { username: `ways${n}`, password: `ways${n}-long-password`, phone: `+4474002000${String(n).padStart(2, '0')}` };
    const id = await t.addUser(user.username, user.password, user.phone);
    upstream.claims.set(`upstream-${n}`, { preferred_username: user.username });
    upstream.answer = { sub: `upstream-${n}` };
    audited = await AuditedPage.open(chromium, { origin: t.issuer, language });
    const request = await authorizationRequest(client);
    await audited.goto(request.url.toString());
    await expectIn(language);
    return { user, id, request, page: audited.page };
  }

  const text = (key: string, language: string, params: Record<string, string> = {}) => allTexts.page(key, params, language);
  const button = (name: string) => audited.page.getByRole('button', { name, exact: true });

  /** The page now shown is in `language` through and through. */
  async function expectIn(language: string) {
    expect(untranslated(await audited.page.content(), language), audited.page.url()).toEqual([]);
  }

  async function code(phone: string, language: string) {
    await audited.page.fill('#code', sms.lastCode(phone));
    await audited.navigate(() => button(text('page.continue', language)).click());
  }

  async function atApp(request: AuthorizationRequest, client: RelyingParty) {
    expect(new URL(audited.page.url()).origin).toBe(app.origin);
    return exchange(client, request, await app.next());
  }

  for (const language of ['en', 'de', 'fr']) {
    it(`"Continue with" an upstream provider on the password page, in ${language}: its refusal, then through it, the SMS code and the account page's other ways to sign in`, async () => {
      const { user, request } = await start(withUpstream, language);
      const viaAcme = button(text('federated.offer', language, { provider: PROVIDERS.acme }));
      expect(await audited.page.locator('#password').count()).toBe(1);

      const answer = upstream.answer;
      upstream.answer = { error: 'access_denied' };
      // Off to the upstream and straight back (its login answers at once): the password page again, saying so.
      await audited.navigate(() => viaAcme.click());
      expect(await audited.page.textContent('#form-message')).toBe(allTexts.text('FEDERATION_REFUSED', { provider: PROVIDERS.acme }, language));
      await expectIn(language);

      upstream.answer = answer;
      await audited.navigate(() => viaAcme.click());
      expect(await audited.page.locator('#code').count()).toBe(1);
      await expectIn(language);
      await code(user.phone, language);
      expect((await atApp(request, withUpstream)).claims()!.amr).toEqual(['fed', 'sms', 'mfa']);

      // The session is strong enough for the account page, which lists the providers.
      await audited.goto(`${t.issuer}/account`);
      expect(await audited.page.getByRole('heading', { name: text('account.federation', language) }).count()).toBe(1);
      expect(await button(text('account.federation.link', language, { provider: PROVIDERS.corp })).count()).toBe(1);
      await expectIn(language);
    });
  }

  it('a client whose only ways in are two upstream providers: the page that offers both, then one of them', async () => {
    const { user, request } = await start(upstreamsOnly);
    expect(await audited.page.locator('#password').count()).toBe(0);
    expect(await button(text('federated.offer', 'en', { provider: PROVIDERS.corp })).count()).toBe(1);
    await audited.navigate(() => button(text('federated.offer', 'en', { provider: PROVIDERS.acme })).click());
    await code(user.phone, 'en');
    expect((await atApp(request, upstreamsOnly)).claims()!.amr).toEqual(['fed', 'sms', 'mfa']);
  });

  it('a passkey: the page that starts it, the page that asks the browser (which has none for this address), then the SMS code instead', async () => {
    const { user, id, request, page } = await start(plain);
    await passkeyCredentialRepository(t.database.db).add({
      id: 'dGhpcy1pcy1ub3QtYS1yZWFsLWtleQ', accountId: id, publicKey: new Uint8Array(77), counter: 0, transports: ['internal'],
      backedUp: false, deviceType: 'singleDevice', name: 'Laptop', createdAt: new Date(clock.now().getTime() - 60_000),
    });
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await audited.navigate(() => button(text('page.continue', 'en')).click());
    // The passkey, the account's factor added last, comes first; the SMS code is offered beside it.
    expect(await button(text('sms.offer', 'en')).count()).toBe(1);
    await audited.navigate(() => button(text('passkey.use', 'en')).click());
    // The script asks the browser at once; a passkey for 127.0.0.1 (no domain) it refuses, and the page says so.
    await page.waitForFunction(() => document.getElementById('passkey-status')?.textContent !== '');
    expect(await page.textContent('#passkey-status')).toBe(text('passkey.not-used', 'en'));
    await audited.navigate(() => button(text('sms.offer', 'en')).click());
    await code(user.phone, 'en');
    expect((await atApp(request, plain)).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
  });
});
