import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { clientRepository } from '../../src/repositories/clients.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser, hiddenValue, type Page } from '../support/browser.ts';
import { exchange, callbackOf, pageOf, relyingParty, startLogin, submitPassword, submitStep } from '../support/rp.ts';
import { distinctCodes, RecordingSender } from '../support/sms.ts';
import { storedLinks, storedUpstreams, Upstream } from '../support/upstream.ts';

describe('linking an upstream account from the account page', () => {
  let t: TestApp;
  let upstream: Upstream;
  const sms = new RecordingSender();
  const users = { gil: '+447400190001', hal: '+447400190002' } as const;

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, random: distinctCodes(), overrides: { smsOtp: { userSendLimit: 100, resendCooldownSeconds: 0 } } });
    upstream = await Upstream.start(() => [{ clientId: 'keystep', clientSecret: 'keystep-upstream-secret', redirectUris: [`${t.issuer}/federation/acme/callback`] }]);
    await (await storedUpstreams(t)).insert({
      name: 'acme', issuer: upstream.issuer, clientId: 'keystep', clientSecret: 'keystep-upstream-secret', scope: 'openid profile',
      displayName: 'Acme SSO', usecase: 'association', userAttribute: undefined, domains: ['primary'], mobileClaim: undefined, jit: false,
    });
    for (const [name, phone] of Object.entries(users)) await t.addUser(name, `${name}s-long-password`, phone);
    upstream.claims.set('acme-gil', { preferred_username: 'someone-else' });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  /** Signed in at the account page with the password and the SMS code. */
  async function accountPage(name: keyof typeof users): Promise<{ browser: Browser; page: Page }> {
    const browser = new Browser('never:');
    const login = pageOf(await browser.visit(`${t.issuer}/account`));
    const codePage = pageOf(await submitPassword(browser, login, name, `${name}s-long-password`));
    return { browser, page: pageOf(await submitStep(browser, codePage, 'sms-otp', { code: sms.lastCode(users[name]) })) };
  }
  const link = (browser: Browser, page: Page) => browser.submit(`${t.issuer}/account/federation/link`, { _csrf: hiddenValue(page.html, '_csrf'), provider: 'acme' });

  it('links the identity the upstream proves, and the next upstream sign-in finds the account', async () => {
    const { browser, page } = await accountPage('gil');
    expect(page.html).toContain('Link your Acme SSO account');
    upstream.answer = { sub: 'acme-gil' };
    const after = pageOf(await link(browser, page));
    expect(after.url).toMatch(/\/account\?m=FEDERATION_LINKED$/);
    expect(alertText(after.html)).toBe('Linked: you can now sign in through that provider.');
    expect(after.html).toContain('Your Acme SSO account is linked.');
    const gil = (await accountRepository(t.database.db).findByUsername('gil'))!.id;
    expect((await (await storedLinks(t)).findLinked('acme', 'acme-gil'))!.id).toBe(gil);

    // usecase association: the link is what finds gil.
    const rp = await relyingParty(t, await t.addClient('web-app'));
    await clientRepository(t.database.db).setFirstSteps('web-app', ['password', 'idp:acme']);
    const attempt = await startLogin(rp);
    const codePage = pageOf(await submitStep(attempt.browser, pageOf(attempt.visit), 'password', { action: 'idp:acme' }));
    const tokens = await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, codePage, 'sms-otp', { code: sms.lastCode(users.gil) })));
    expect(tokens.claims()).toMatchObject({ sub: gil, amr: ['fed', 'sms', 'mfa'] });
  });

  it('does not move an identity linked to another account', async () => {
    const { browser, page } = await accountPage('hal');
    upstream.answer = { sub: 'acme-gil' };
    const after = pageOf(await link(browser, page));
    expect(alertText(after.html)).toMatch(/linked to another account already/);
    const gil = (await accountRepository(t.database.db).findByUsername('gil'))!.id;
    expect((await (await storedLinks(t)).findLinked('acme', 'acme-gil'))!.id).toBe(gil);
  });

  it('links nothing on a forged answer, nor on one replayed after it was used', async () => {
    const { browser, page } = await accountPage('hal');
    upstream.answer = { sub: 'acme-hal' };
    upstream.holdCallbacks = true;
    await link(browser, page);
    upstream.holdCallbacks = false;
    const callback = upstream.held.at(-1)!;
    const forged = new URL(callback);
    forged.searchParams.set('state', `${forged.searchParams.get('state')!.split('.')[0]}.forged`);
    const tries = () => t.database.db.selectFrom('auth_events').select('reason').where('event', '=', 'account.federated_link').execute();
    const before = (await tries()).length;
    expect(alertText(pageOf(await browser.visit(forged.toString())).html)).toMatch(/nothing was linked/);
    // Refused by the state kept with the change, before the answer reached the provider's client.
    expect((await tries()).length).toBe(before);
    // The try ended with the forged answer: the real one is refused too.
    expect(alertText(pageOf(await browser.visit(callback)).html)).toMatch(/nothing was linked/);
    expect(await (await storedLinks(t)).findLinked('acme', 'acme-hal')).toBeUndefined();
    // Another browser, not signed in at the account page, gets nowhere with it.
    const elsewhere = pageOf(await new Browser('never:').visit(callback));
    expect(elsewhere.html).toContain('name="password"');
    expect(await (await storedLinks(t)).findLinked('acme', 'acme-hal')).toBeUndefined();
  });

  it('a state of the right length in other letters is refused with the same page, not a 500', async () => {
    const { browser, page } = await accountPage('hal');
    upstream.answer = { sub: 'acme-hal' };
    upstream.holdCallbacks = true;
    await link(browser, page);
    upstream.holdCallbacks = false;
    const forged = new URL(upstream.held.at(-1)!);
    const [uid, secret] = forged.searchParams.get('state')!.split('.');
    forged.searchParams.set('state', `${uid}.${'é'.repeat(secret!.length)}`);
    const refused = pageOf(await browser.visit(forged.toString()));
    expect(refused.status).toBe(200);
    expect(alertText(refused.html)).toMatch(/nothing was linked/);
    expect(await (await storedLinks(t)).findLinked('acme', 'acme-hal')).toBeUndefined();
  });

  it('a link made at the provider\'s former issuer is not shown as linked', async () => {
    const settings = (await t.database.db.selectFrom('upstream_providers').select('settings').where('name', '=', 'acme').executeTakeFirstOrThrow()).settings;
    await t.database.db.updateTable('upstream_providers').set({ settings: JSON.stringify({ ...settings, issuer: 'http://localhost:1' }) }).where('name', '=', 'acme').execute();
    try {
      const { page } = await accountPage('gil');
      expect(page.html).toContain('Link your Acme SSO account');
      expect(page.html).not.toContain('Your Acme SSO account is linked.');
    } finally {
      await t.database.db.updateTable('upstream_providers').set({ settings: JSON.stringify(settings) }).where('name', '=', 'acme').execute();
    }
  });
});
