import { sql } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealSecret } from '../../src/login/factors/totp/secrets.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { totpCredentialRepository } from '../../src/repositories/totp-credentials.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser, hiddenValue, type Page } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { testOtpKey } from '../support/login-fakes.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitPassword, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { RecordingSender, TestClock } from '../support/sms.ts';

const PHONE = '+447400262626';

/** The step's code as the user's app shows it at `at`. */
const appCode = (secret: string, at: Date) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at.getTime() });
const unescape = (html: string) => html.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'");

describe('the authenticator app', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let accountId: string;
  const sms = new RecordingSender();
  // Keystep's clock, which the codes follow: each sign-in moves it on a step, so no code is a replay by accident.
  const clock = new TestClock();
  let secret = '';

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, clock, overrides: { smsOtp: { userSendLimit: 100, resendCooldownSeconds: 0, lockoutThreshold: 10 } } });
    accountId = await t.addUser('tia', 'tias-long-password', PHONE);
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  const post = (browser: Browser, page: Page, action: string, fields: Record<string, string> = {}) =>
    browser.submit(new URL(action, t.issuer).toString(), { _csrf: hiddenValue(page.html, '_csrf'), ...fields });
  const nextStep = () => clock.advance(30);
  const credential = () => t.database.db.selectFrom('totp_credentials').selectAll().where('account_id', '=', accountId).executeTakeFirst();

  /** A browser signed in at the account page, with the app's code once it has one, else the SMS code. */
  async function signedIn(start = '/account', browser = new Browser('never:')) {
    const login = pageOf(await browser.visit(`${t.issuer}${start}`));
    const second = pageOf(await submitPassword(browser, login, 'tia', 'tias-long-password'));
    nextStep();
    const page = second.html.includes('name="step" value="totp"')
      ? pageOf(await submitStep(browser, second, 'totp', { code: appCode(secret, clock.now()) }))
      : pageOf(await submitStep(browser, second, 'sms-otp', { code: sms.lastCode(PHONE) }));
    return { browser, page };
  }

  /** Sets up an app from the account page, reading the secret from the page as a user would. */
  async function enrol() {
    const { browser, page: start } = await signedIn('/account/totp/new');
    expect(start.url).toBe(`${t.issuer}/account/totp/new`);
    const setup = pageOf(await post(browser, start, '/account/totp/new'));
    expect(setup.url).toBe(`${t.issuer}/account/totp/confirm`);
    const shown = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(setup.html)![1]!.replaceAll(' ', '');
    const uri = new URL(unescape(/<code class="uri">([^<]+)<\/code>/.exec(setup.html)![1]!));
    return { browser, setup, shown, uri };
  }

  it('is set up on the account page with a QR code drawn on the server, and counts only after one code from the app', async () => {
    const { page: before } = await signedIn();
    expect(before.html).toContain('No authenticator app yet.');

    const { browser, setup, shown, uri } = await enrol();
    expect(shown).toMatch(/^[A-Z2-7]{32}$/);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Keystep:tia');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ issuer: 'Keystep', secret: shown, algorithm: 'SHA1', digits: '6', period: '30' });
    // An inline SVG, and no script: the page's CSP allows none.
    expect(setup.html).toMatch(/<figure class="qr"[^>]*><svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(setup.html).not.toContain('<script');
    expect(setup.headers.get('content-security-policy')).toMatch(/script-src 'none'/);
    expect(setup.headers.get('cache-control')).toBe('no-store');
    // Waiting for its first code, the secret is only sealed in the change's record, and counts for nothing.
    expect(JSON.stringify(await t.database.db.selectFrom('login_flows').select('data').execute())).not.toContain(shown);
    expect(await credential()).toBeUndefined();

    const wrong = pageOf(await post(browser, setup, '/account/totp/confirm', { code: '000000' === appCode(shown, clock.now()) ? '111111' : '000000' }));
    expect(alertText(wrong.html)).toMatch(/not right/);
    expect(await credential()).toBeUndefined();
    const done = pageOf(await post(browser, wrong, '/account/totp/confirm', { code: appCode(shown, clock.now()) }));
    expect(alertText(done.html)).toMatch(/authenticator app is set up/);
    expect(done.html).toMatch(/Added \d{4}-\d\d-\d\d \d\d:\d\d UTC; not used to sign in yet/);
    secret = shown;
    // Never shown again: the set-up page now starts a new one.
    const again = await browser.request(`${t.issuer}/account/totp/confirm`);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toMatch(/^\/account\/totp\/new\?m=TOTP_SETUP_GONE/);
  });

  it('signs in with the app\'s code before any SMS, with the SMS code offered and a way back: amr pwd, otp, mfa', async () => {
    const sent = sms.sent.length;
    const { attempt, next } = await toSecondStep(rp, 'tia', 'tias-long-password');
    const appPage = pageOf(next);
    expect(appPage.html).toContain('name="step" value="totp"');
    expect(appPage.html).toContain('Get a code by text message instead');
    expect(sms.sent.length).toBe(sent);

    const smsPage = pageOf(await submitStep(attempt.browser, appPage, 'totp', { action: 'sms' }));
    expect(smsPage.html).toContain('name="step" value="sms-otp"');
    expect(smsPage.html).toContain('Use your authenticator app instead');
    expect(sms.sent.length).toBe(sent + 1);
    const back = pageOf(await submitStep(attempt.browser, smsPage, 'sms-otp', { action: 'totp' }));
    expect(back.html).toContain('name="step" value="totp"');

    nextStep();
    const code = appCode(secret, clock.now());
    const claims = (await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, back, 'totp', { code })))).claims()!;
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe('urn:keystep:acr:mfa');

    // The same code in another login is refused; the next step's code works.
    const replay = await toSecondStep(rp, 'tia', 'tias-long-password');
    const refused = pageOf(await submitStep(replay.attempt.browser, pageOf(replay.next), 'totp', { code }));
    expect(alertText(refused.html)).toMatch(/already used/);
    nextStep();
    callbackOf(await submitStep(replay.attempt.browser, refused, 'totp', { code: appCode(secret, clock.now()) }));
    expect((await credential())!.last_used_at).not.toBeNull();
  });

  it('keeps the secret out of the database in clear and out of every log line', async () => {
    const row = (await credential())!;
    expect(row.sealed_secret).not.toContain(secret);
    // Sealed for this account: the same sealed value does not open as another's.
    expect(row.sealed_secret).not.toBe(sealSecret(testOtpKey, secret, accountId));
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(t.database.db);
    for (const { table_name } of tables.rows) {
      const dump = await sql<{ row: string }>`select t::text as row from ${sql.table(table_name)} t`.execute(t.database.db);
      const text = dump.rows.map((r) => r.row).join('\n');
      expect(text, table_name).not.toContain(secret);
      expect(text, table_name).not.toContain(secret.toLowerCase());
    }
    expect(t.logLines.length).toBeGreaterThan(0);
    expect(t.logLines.filter((line) => line.includes(secret) || line.includes(secret.match(/.{4}/g)!.join(' ')))).toEqual([]);
  });

  it('lists when it was last used, and is removed from the account page after a confirm', async () => {
    const { browser, page } = await signedIn('/account/totp/remove');
    expect(page.url).toBe(`${t.issuer}/account/totp/remove`);
    const account = pageOf(await browser.visit(`${t.issuer}/account`));
    expect(account.html).toMatch(/Added [\d-]+ [\d:]+ UTC; last used [\d-]+ [\d:]+ UTC/);
    const removed = pageOf(await post(browser, page, '/account/totp/remove'));
    expect(alertText(removed.html)).toMatch(/authenticator app was removed/);
    expect(removed.html).toContain('No authenticator app yet.');
    expect(await credential()).toBeUndefined();
    // Back to the SMS code, as before.
    const { next } = await toSecondStep(rp, 'tia', 'tias-long-password');
    expect(pageOf(next).html).toContain('name="step" value="sms-otp"');
    expect(pageOf(next).html).not.toContain('Use your authenticator app instead');
  });

  it('is removed by the operator with `keystep user totp remove`', async () => {
    const { browser, setup, shown } = await enrol();
    pageOf(await post(browser, setup, '/account/totp/confirm', { code: appCode(shown, clock.now()) }));
    secret = shown;
    expect(await credential()).toBeDefined();
    const env = { DATABASE_URL: t.database.url };
    expect(await runCli(['user', 'totp', 'remove', 'tia'], env)).toMatchObject({ code: 0, stdout: 'authenticator app of tia removed\n' });
    expect(await credential()).toBeUndefined();
    expect(await runCli(['user', 'totp', 'remove', 'tia'], env)).toMatchObject({ code: 0, stdout: 'tia has no authenticator app\n' });
    expect(await runCli(['user', 'totp', 'remove', 'nobody'], env)).toMatchObject({ code: 3 });
    const events = await t.database.db.selectFrom('auth_events').select('event').where('account_id', '=', accountId).where('event', 'like', '%totp%').execute();
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['account.totp_added', 'account.totp_removed', 'user.totp_removed', 'login.totp']));
  });

  it('goes with its account', async () => {
    const id = await t.addUser('una', 'unas-long-password');
    await totpCredentialRepository(t.database.db).save(id, sealSecret(testOtpKey, 'JBSWY3DPEHPK3PXP', id), 1, new Date());
    await t.database.db.deleteFrom('accounts').where('id', '=', id).execute();
    expect(await t.database.db.selectFrom('totp_credentials').select('account_id').where('account_id', '=', id).execute()).toEqual([]);
    expect(await accountRepository(t.database.db).findById(id)).toBeUndefined();
  });
});
