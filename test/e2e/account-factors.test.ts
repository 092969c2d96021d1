import { createSecretKey } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealSecret } from '../../src/login/factors/totp/secrets.ts';
import { passkeyCredentialRepository } from '../../src/repositories/passkey-credentials.ts';
import { totpCredentialRepository } from '../../src/repositories/totp-credentials.ts';
import { purposeKey } from '../../src/shared/keys.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser, hiddenValue, type Page } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitPassword, submitStep, toSecondStep } from '../support/rp.ts';
import { RecordingSender, TestClock } from '../support/sms.ts';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const PHONE = '+447400272727';
const PASSWORD = 'a-long-enough-password';
const SERVER_SECRET = 'a-server-secret-of-32-characters-or-more';
// The key Keystep seals authenticator secrets with, from the server secret it is given.
const totpKey = purposeKey(createSecretKey(Buffer.from(SERVER_SECRET, 'utf8')), 'totp-secrets');

const appCode = (secret: string, at: Date) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at.getTime() });

/** Removing and adding a second factor on the account page: the last one an account needs stays, and every change is told to the phone. */
describe('the second factors on the account page', () => {
  let t: TestApp;
  const sms = new RecordingSender();
  const clock = new TestClock();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, clock, overrides: { keys: { otpHmacKey: SERVER_SECRET }, smsOtp: { userSendLimit: 100, resendCooldownSeconds: 0 } } });
  });
  afterAll(() => t.close());

  const post = (browser: Browser, page: Page, action: string, fields: Record<string, string> = {}) =>
    browser.submit(new URL(action, t.issuer).toString(), { _csrf: hiddenValue(page.html, '_csrf'), ...fields });

  /** An account with an authenticator app and these passkeys, set up in the stores as the account page would. */
  async function account(username: string, phone: string | null, passkeys: string[]) {
    const id = await t.addUser(username, PASSWORD, phone);
    await totpCredentialRepository(t.database.db).save(id, sealSecret(totpKey, SECRET, id), 0, clock.now());
    for (const name of passkeys) {
      await passkeyCredentialRepository(t.database.db).add({
        id: `${username}-${name}`, accountId: id, publicKey: new Uint8Array([1, 2, 3]), counter: 0, transports: [], backedUp: false, deviceType: 'singleDevice', name, createdAt: clock.now(),
      });
    }
    return id;
  }

  /** Signed in at the account page with the app's code. */
  async function signedIn(username: string, start = '/account') {
    const browser = new Browser('never:');
    const login = pageOf(await browser.visit(`${t.issuer}${start}`));
    let step = pageOf(await submitPassword(browser, login, username, PASSWORD));
    // An account with a passkey is asked for it first; the app is one of the other methods.
    if (step.html.includes('name="step" value="passkey"')) step = pageOf(await submitStep(browser, step, 'passkey', { action: 'totp' }));
    clock.advance(30);
    const page = pageOf(await submitStep(browser, step, 'totp', { code: appCode(SECRET, clock.now()) }));
    expect(page.url, alertText(page.html)).toBe(`${t.issuer}${start}`);
    return { browser, page };
  }

  const passkeysOf = async (id: string) => (await passkeyCredentialRepository(t.database.db).list(id)).map((p) => p.name);
  const appOf = (id: string) => totpCredentialRepository(t.database.db).find(id);
  const eventsOf = async (id: string) => (await t.database.db.selectFrom('auth_events').select(['event', 'result']).where('account_id', '=', id).where('event', 'like', 'account.%').orderBy('id').execute());

  it('refuses to remove the last second factor of an account without a number, with a message', async () => {
    const id = await account('nia', null, ['laptop', 'phone']);
    const { browser, page } = await signedIn('nia', '/account/passkeys');
    // A passkey with another beside it, then the app with a passkey left: both go.
    const one = pageOf(await post(browser, page, '/account/passkeys/remove', { id: 'nia-laptop' }));
    expect(alertText(one.html)).toMatch(/passkey was removed/);
    const app = pageOf(await post(browser, one, '/account/totp/remove'));
    expect(alertText(app.html)).toMatch(/authenticator app was removed/);
    expect(await appOf(id)).toBeUndefined();
    // The last one stays: only backup codes would be left, and a second factor is asked of every sign-in.
    const refused = pageOf(await post(browser, app, '/account/passkeys/remove', { id: 'nia-phone' }));
    expect(refused.url).toBe(`${t.issuer}/account/passkeys?m=LAST_SECOND_FACTOR`);
    expect(alertText(refused.html)).toMatch(/last way your account has to prove it is you/);
    expect(await passkeysOf(id)).toEqual(['phone']);
    expect((await eventsOf(id)).map((e) => e.event)).toEqual(['account.passkey_removed', 'account.totp_removed']);
  });

  it('refuses to remove the app when it is the only second factor', async () => {
    const id = await account('oli', null, []);
    const { browser, page } = await signedIn('oli', '/account/totp/remove');
    const refused = pageOf(await post(browser, page, '/account/totp/remove'));
    expect(alertText(refused.html)).toMatch(/last way your account has to prove it is you/);
    expect(await appOf(id)).toBeDefined();
  });

  it('tells the verified number of every factor removed or added, with no secret or code, and records each', async () => {
    const id = await account('pia', PHONE, ['key']);
    const { browser, page } = await signedIn('pia', '/account/passkeys');
    const before = sms.sent.length;
    // With the number, the passkey and the app are not the last.
    const gone = pageOf(await post(browser, page, '/account/passkeys/remove', { id: 'pia-key' }));
    expect(alertText(gone.html)).toMatch(/passkey was removed/);
    const remove = pageOf(await browser.visit(`${t.issuer}/account/totp/remove`));
    pageOf(await post(browser, remove, '/account/totp/remove'));
    expect(sms.sent.slice(before).map((m) => [m.to, m.purpose, m.text])).toEqual([
      [PHONE, 'notice', 'Keystep: A passkey was removed from your account. If you did not do this, contact your administrator now.'],
      [PHONE, 'notice', 'Keystep: The authenticator app was removed from your account. If you did not do this, contact your administrator now.'],
    ]);

    // A new app: the notice names it, never its secret or the code that confirmed it.
    const start = pageOf(await browser.visit(`${t.issuer}/account/totp/new`));
    const setup = pageOf(await post(browser, start, '/account/totp/new'));
    const shown = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(setup.html)![1]!.replaceAll(' ', '');
    clock.advance(30);
    const code = appCode(shown, clock.now());
    const done = pageOf(await post(browser, setup, '/account/totp/confirm', { code }));
    expect(alertText(done.html)).toMatch(/authenticator app is set up/);
    const added = sms.sent.at(-1)!;
    expect([added.to, added.purpose, added.text]).toEqual([PHONE, 'notice', 'Keystep: An authenticator app was added to your account. If you did not do this, contact your administrator now.']);
    expect(added.text).not.toContain(code);
    expect(added.code).toBeUndefined();
    expect((await eventsOf(id)).map((e) => e.event)).toEqual(expect.arrayContaining(['account.passkey_removed', 'account.totp_removed', 'account.totp_added']));

    // A notice the gateway refuses does not undo the change; it is recorded.
    sms.failing = true;
    try {
      const again = pageOf(await browser.visit(`${t.issuer}/account/totp/remove`));
      const removed = pageOf(await post(browser, again, '/account/totp/remove'));
      expect(alertText(removed.html)).toMatch(/authenticator app was removed/);
    } finally {
      sms.failing = false;
    }
    expect(await appOf(id)).toBeUndefined();
    expect((await eventsOf(id)).slice(-2)).toEqual([{ event: 'account.totp_removed', result: 'success' }, { event: 'account.factor_notice', result: 'failure' }]);
  });

  it('offers first the second factor used last: the SMS code once it was, the app again once that was', async () => {
    const id = await account('rua', PHONE, []);
    const rp = await relyingParty(t, await t.addClient('choosing-app'));
    const lastUsed = async () => Object.fromEntries((await t.database.db.selectFrom('account_factors').select(['factor', 'last_used_at']).where('account_id', '=', id).execute()).map((r) => [r.factor, r.last_used_at]));
    const signIn = async (use: 'totp' | 'sms-otp') => {
      const { attempt, next } = await toSecondStep(rp, 'rua', PASSWORD);
      const offered = pageOf(next);
      const first = /name="step" value="([\w-]+)"/.exec(offered.html)![1];
      let page = offered;
      if (first !== use) page = pageOf(await submitStep(attempt.browser, offered, first!, { action: use === 'totp' ? 'totp' : 'sms' }));
      clock.advance(30);
      const code = use === 'totp' ? appCode(SECRET, clock.now()) : sms.lastCode(PHONE);
      await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, page, use, { code })));
      return first;
    };
    // The SMS code has no record before its first use: the app, just added, comes first.
    expect(await signIn('sms-otp')).toBe('totp');
    expect((await lastUsed())['sms-otp']).toEqual(clock.now());
    expect(await signIn('totp')).toBe('sms-otp');
    expect(await signIn('totp')).toBe('totp');
    const noted = await lastUsed();
    expect(noted.totp!.getTime()).toBeGreaterThan(noted['sms-otp']!.getTime());
    // The hand-over notes only the factor that has no store of its own: the app's row is its store's.
    expect(Object.keys(noted).sort()).toEqual(['sms-otp', 'totp']);
  });
});
