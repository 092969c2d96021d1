import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { issueBackupCodes } from '../../src/login/factors/backup-code/codes.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { backupCodeRepository } from '../../src/repositories/backup-codes.ts';
import { cryptoRandom } from '../../src/shared/random.ts';
import { REDIRECT_URI, startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser, hiddenValue, type Page } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitPassword, submitStep, toSecondStep, TOKEN_REFUSED } from '../support/rp.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { wrongCode } from '../support/sms.ts';

const OLD = '+447400232323';
const NEW = '+447400242424';

describe('the account page', () => {
  let t: TestApp;
  let accountId: string;
  let oldCodes: string[];
  // Through the real HTTP sender and a fake provider on loopback: codes and the notice are read there.
  let sms: FakeGateway;

  beforeAll(async () => {
    sms = await FakeGateway.start();
    t = await startTestApp({
      overrides: {
        smsOtp: { userSendLimit: 100, resendCooldownSeconds: 0 },
        sms: { sender: 'http', gateway: { preset: 'twilio', accountSid: 'AC1', authToken: 'token-0123', from: '+15005550006', url: `${sms.origin}/Messages.json` } },
      },
    });
    accountId = await t.addUser('fay', 'fays-long-password', OLD);
    oldCodes = await issueBackupCodes(backupCodeRepository(t.database.db), t.hasher, cryptoRandom, accountId);
  });
  afterAll(async () => {
    await t.close();
    await sms.stop();
  });

  /** A browser signed in at Keystep through the account page's own login (password, then the SMS code). */
  async function signedIn(browser = new Browser('never:'), start = '/account'): Promise<{ browser: Browser; page: Page }> {
    const login = pageOf(await browser.visit(`${t.issuer}${start}`));
    const codePage = pageOf(await submitPassword(browser, login, 'fay', 'fays-long-password'));
    return { browser, page: pageOf(await submitStep(browser, codePage, 'sms-otp', { code: sms.lastCode(OLD) })) };
  }

  const post = (browser: Browser, page: Page, action: string, fields: Record<string, string> = {}) =>
    browser.submit(new URL(action, t.issuer).toString(), { _csrf: hiddenValue(page.html, '_csrf'), ...fields });

  it('needs a full login with the second factor, then shows the number, backup codes and recent sign-ins', async () => {
    const { page } = await signedIn();
    expect(page.url).toBe(`${t.issuer}/account`);
    expect(page.html).toContain('Signed in as fay.');
    expect(page.html).toContain('+44 •••• ••23 23');
    // The number is a factor like the others: when it was added, when it last signed in (just now).
    expect(page.html).toMatch(/\(verified [\d-]+ [\d:]+ UTC; last used [\d-]+ [\d:]+ UTC\)/);
    expect(page.html).not.toContain('7400232323');
    expect(page.html).toContain('You have 10 unused backup codes.');
    expect(page.html).toMatch(/signed in<\/td><td>pwd \+ sms/);
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('ends an answer with a wrong state or issuer, or an error, on the signed-out page, setting nothing and using the state up', async () => {
    /** A browser sent off to sign in from the change page, and the answer Keystep would give it. */
    async function started() {
      const browser = new Browser('never:');
      const away = await browser.request(`${t.issuer}/account/phone`);
      const auth = new URL(away.headers.get('location')!);
      expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
      return { browser, answer: { code: 'a-code', state: auth.searchParams.get('state')!, iss: t.issuer } };
    }
    const callback = async (browser: Browser, params: Record<string, string>) => {
      const response = await browser.request(`${t.issuer}/account/callback?${new URLSearchParams(params)}`);
      return { status: response.status, location: response.headers.get('location'), cookies: response.headers.getSetCookie() };
    };

    const good = await started();
    expect(await callback(good.browser, good.answer)).toMatchObject({ status: 303, location: '/account/phone' });
    const wrong: Record<string, string>[] = [{ state: 'another-state' }, { iss: 'https://id.example.com' }, { iss: `${t.issuer}/` }, { error: 'access_denied' }];
    for (const bad of wrong) {
      const { browser, answer } = await started();
      const ended = await callback(browser, { ...answer, ...bad });
      expect(ended, JSON.stringify(bad)).toMatchObject({ status: 303, location: '/account/signed-out' });
      // Only the sign-in's own cookie, cleared: no session, no change in progress.
      expect(ended.cookies.map((c) => c.split('=')[0]).sort()).toEqual(['keystep_account_login', 'keystep_account_login.sig']);
      expect(ended.cookies.every((c) => /expires=Thu, 01 Jan 1970/i.test(c))).toBe(true);
      // The browser's right answer, after that, no longer counts.
      expect(await callback(browser, answer)).toMatchObject({ status: 303, location: '/account/signed-out' });
    }
    // Keystep names itself in every answer: one without `iss` is not its own.
    const unnamed = await started();
    expect(await callback(unnamed.browser, { code: 'a-code', state: unnamed.answer.state })).toMatchObject({ status: 303, location: '/account/signed-out' });
  });

  it('refuses every form without the session\'s anti-forgery token', async () => {
    const { browser } = await signedIn();
    for (const action of ['/account/sign-out-everywhere', '/account/phone', '/account/phone/verify', '/account/backup-codes', '/account/backup-codes/saved']) {
      for (const form of [{ _csrf: 'forged' }, {}] as Record<string, string>[]) {
        const forged = await browser.submit(`${t.issuer}${action}`, { ...form, phone: NEW, code: '123456' });
        expect(forged.postStatus).toBe(403);
      }
    }
    expect((await accountRepository(t.database.db).findById(accountId))!.phone).toBe(OLD);
  });

  it('does not serve a password-only session, and answers a late form with 303 back to its page', async () => {
    // A password-only session, from an app that does not need the second factor (for a user with no number)...
    const relaxed = await relyingParty(t, await t.addClient('relaxed', { mfa: 'optional' }));
    await accountRepository(t.database.db).setPhone(accountId, null, null);
    const attempt = await startLogin(relaxed);
    callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'fay', 'fays-long-password'));
    await accountRepository(t.database.db).setPhone(accountId, OLD, new Date());
    const browser = attempt.browser;
    // ...is sent to a sign-in with the second factor.
    const account = await browser.request(`${t.issuer}/account`);
    expect(account.status).toBe(302);
    expect(new URL(account.headers.get('location')!).searchParams.get('acr_values')).toBe('urn:keystep:acr:mfa');

    const { browser: full, page } = await signedIn();
    await t.database.db.updateTable('oidc_payloads')
      .set({ payload: sql`jsonb_set(payload::jsonb, '{loginTs}', to_jsonb(((payload->>'loginTs')::int - 400)))::json` as never })
      .where('model', '=', 'Session').execute();
    const late = await full.request(`${t.issuer}/account/phone`, { method: 'POST', body: new URLSearchParams({ _csrf: hiddenValue(page.html, '_csrf'), phone: NEW }).toString(), contentType: 'application/x-www-form-urlencoded' });
    expect(late.status).toBe(303);
    expect(late.headers.get('location')).toBe('/account/phone');
    expect((await accountRepository(t.database.db).findById(accountId))!.phone).toBe(OLD);
  });

  it('sends nothing while the account\'s codes are locked, and keeps the cooldown across new numbers', async () => {
    const { browser } = await signedIn();
    const form = pageOf(await browser.visit(`${t.issuer}/account/phone`));
    await t.database.db.updateTable('accounts').set({ otp_locked_until: new Date(Date.now() + 600_000) }).where('id', '=', accountId).execute();
    const before = sms.received.length;
    const locked = pageOf(await post(browser, form, '/account/phone', { phone: NEW }));
    expect(alertText(locked.html)).toMatch(/locked/);
    expect(sms.received.length).toBe(before);
    await t.database.db.updateTable('accounts').set({ otp_locked_until: null, failed_otp_count: 0 }).where('id', '=', accountId).execute();
  });

  it('changes the number only after a recent sign-in and a code to the new number, and tells the old number', async () => {
    const { browser } = await signedIn();
    // An old sign-in: the change page asks for a fresh one.
    await t.database.db.updateTable('oidc_payloads')
      .set({ payload: sql`jsonb_set(payload::jsonb, '{loginTs}', to_jsonb(((payload->>'loginTs')::int - 400)))::json` as never })
      .where('model', '=', 'Session').execute();
    const stale = await browser.request(`${t.issuer}/account/phone`);
    expect(stale.status).toBe(302);
    expect(new URL(stale.headers.get('location')!).searchParams.get('prompt')).toBe('login');

    // The fresh sign-in (password and code again) comes back to the change page.
    const { page: form } = await signedIn(browser, '/account/phone');
    expect(form.url).toBe(`${t.issuer}/account/phone`);
    expect(form.html).toContain('autocomplete="tel"');
    const bad = pageOf(await post(browser, form, '/account/phone', { phone: '+442071838750' }));
    expect(alertText(bad.html)).toMatch(/cannot receive text messages/);
    const codePage = pageOf(await post(browser, bad, '/account/phone', { phone: NEW }));
    expect(codePage.html).toContain('+44 •••• ••24 24');
    expect((await accountRepository(t.database.db).findById(accountId))!.phone).toBe(OLD);
    const wrong = pageOf(await post(browser, codePage, '/account/phone/verify', { code: wrongCode(sms.lastCode(NEW)) }));
    expect(alertText(wrong.html)).toMatch(/not right/);
    const done = pageOf(await post(browser, wrong, '/account/phone/verify', { code: sms.lastCode(NEW) }));
    expect(alertText(done.html)).toBe('Your number was changed. A message about it went to your old number.');
    expect((await accountRepository(t.database.db).findById(accountId))!.phone).toBe(NEW);
    expect(sms.to(OLD).at(-1)).toMatch(/sign-in number was changed to \+44 •••• ••24 24/);
    const notices = await t.database.db.selectFrom('sms_messages').select(['purpose', 'status']).where('purpose', '=', 'notice').execute();
    expect(notices).toEqual([{ purpose: 'notice', status: 'sent' }]);
    await accountRepository(t.database.db).setPhone(accountId, OLD, new Date());
  });

  it('renews backup codes once shown, and the old ones stop working', async () => {
    const { browser } = await signedIn();
    const confirm = pageOf(await browser.visit(`${t.issuer}/account/backup-codes/new`));
    const shown = pageOf(await post(browser, confirm, '/account/backup-codes'));
    const codes = [...shown.html.matchAll(/<code>([A-Z2-9]{5}-[A-Z2-9]{5})<\/code>/g)].map((m) => m[1]!);
    expect(codes).toHaveLength(10);
    expect(codes.some((c) => oldCodes.includes(c))).toBe(false);
    const saved = pageOf(await post(browser, shown, '/account/backup-codes/saved'));
    expect(alertText(saved.html)).toMatch(/old ones no longer work/);
    // Shown once: the codes page is gone.
    const again = await browser.request(`${t.issuer}/account/backup-codes`);
    expect(again.status).toBe(303);
    // An old code no longer logs in; a new one does.
    const rp = await relyingParty(t, await t.addClient('web-app'));
    const { attempt, next } = await toSecondStep(rp, 'fay', 'fays-long-password');
    const backupPage = pageOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { action: 'backup' }));
    const old = pageOf(await submitStep(attempt.browser, backupPage, 'backup-code', { code: oldCodes[0]! }));
    expect(alertText(old.html)).toMatch(/not right/);
    expect(alertText(pageOf(await submitStep(attempt.browser, old, 'backup-code', { code: codes[0]! })).html)).toMatch(/Backup code accepted/);
  });

  it('keeps new backup codes only sealed until their one page shows them, and never shows them again', async () => {
    const { browser } = await signedIn();
    const confirm = pageOf(await browser.visit(`${t.issuer}/account/backup-codes/new`));
    const made = await browser.request(new URL('/account/backup-codes', t.issuer).toString(), {
      method: 'POST', body: new URLSearchParams({ _csrf: hiddenValue(confirm.html, '_csrf') }).toString(), contentType: 'application/x-www-form-urlencoded',
    });
    expect(made.status).toBe(303);
    // Between the request that made them and the page that shows them, the row holds no code.
    const rows = await t.database.db.selectFrom('login_flows').select('data').execute();
    const stored = JSON.stringify(rows);
    expect(stored).toContain('sealed');
    const shown = pageOf(await browser.visit(new URL(made.headers.get('location')!, t.issuer).toString()));
    const codes = [...shown.html.matchAll(/<code>([A-Z2-9]{5}-[A-Z2-9]{5})<\/code>/g)].map((m) => m[1]!);
    expect(codes).toHaveLength(10);
    for (const code of codes) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(code.replace('-', ''));
    }
    // Shown once: a reload (or coming back later) before "I have saved them" shows nothing, and
    // the row no longer holds even the sealed copy.
    expect((await browser.request(`${t.issuer}/account/backup-codes`)).status).toBe(303);
    expect(JSON.stringify(await t.database.db.selectFrom('login_flows').select('data').execute())).not.toContain('sealed');
  });

  it('signs out of every session: refresh tokens stop working and the page asks to sign in', async () => {
    const rp = await relyingParty(t, await t.addClient('offline-app'));
    const { attempt, next } = await toSecondStep(rp, 'fay', 'fays-long-password', { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: sms.lastCode(OLD) })));
    expect((await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).access_token).toBeTruthy();

    const { browser, page } = await signedIn();
    const out = pageOf(await post(browser, page, '/account/sign-out-everywhere'));
    expect(alertText(out.html)).toMatch(/signed out everywhere/);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const after = await browser.request(`${t.issuer}/account`);
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toContain('/auth?');
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub)).rejects.toMatchObject(TOKEN_REFUSED);
  });

  it('changing the number ends every other session, grant, token and login in progress, but not this browser\'s', async () => {
    const rp = await relyingParty(t, await t.addClient('phone-change-app'));
    const offline = await toSecondStep(rp, 'fay', 'fays-long-password', { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchange(rp, offline.attempt, callbackOf(await submitStep(offline.attempt.browser, pageOf(offline.next), 'sms-otp', { code: sms.lastCode(OLD) })));
    const elsewhere = await signedIn();
    // Someone who has the password and is at the code page (their code went to the old number).
    const pending = await toSecondStep(rp, 'fay', 'fays-long-password');
    const pendingCode = sms.lastCode(OLD);

    const { browser, page } = await signedIn(new Browser(REDIRECT_URI), '/account/phone');
    onTestFinished(() => accountRepository(t.database.db).setPhone(accountId, OLD, new Date()));
    const codePage = pageOf(await post(browser, page, '/account/phone', { phone: NEW }));
    const done = pageOf(await post(browser, codePage, '/account/phone/verify', { code: sms.lastCode(NEW) }));
    expect(alertText(done.html)).toMatch(/Your number was changed/);

    expect((await browser.request(`${t.issuer}/account`)).status).toBe(200);
    // This browser still signs in to apps: what its session issues now is dated after the sign-out.
    const silent = await startLogin(rp, { prompt: 'none' }, browser);
    expect((await exchange(rp, silent, callbackOf(silent.visit))).access_token).toBeTruthy();
    expect((await elsewhere.browser.request(`${t.issuer}/account`)).status).toBe(302);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub)).rejects.toMatchObject(TOKEN_REFUSED);
    const late = await submitStep(pending.attempt.browser, pageOf(pending.next), 'sms-otp', { code: pendingCode });
    expect(late.callback).toBeUndefined();
    // The login starts again at the password: its progress is gone.
    expect(pageOf(late).html).toContain('name="password"');
    const event = await t.database.db.selectFrom('auth_events').select('detail').where('event', '=', 'account.signed_out_everywhere').orderBy('id', 'desc').executeTakeFirstOrThrow();
    // The app's login and the other browser; the login at the code page and the change itself.
    expect(event.detail).toMatchObject({ cause: 'phone-changed', keptThisSession: true, sessions: 2, logins: 2 });
  });

  it('keeps the old number when the sign-out of the other sessions fails', async () => {
    const elsewhere = await signedIn();
    const { browser, page } = await signedIn(new Browser('never:'), '/account/phone');
    onTestFinished(() => accountRepository(t.database.db).setPhone(accountId, OLD, new Date()));
    const codePage = pageOf(await post(browser, page, '/account/phone', { phone: NEW }));
    // A real database fault in the sign-out, once.
    const db = t.database.db;
    await sql`create function refuse_sign_out() returns trigger language plpgsql as $$
      begin if new.signed_out_at is distinct from old.signed_out_at then raise exception 'disk full'; end if; return new; end $$`.execute(db);
    await sql`create trigger refuse_sign_out before update on accounts for each row execute function refuse_sign_out()`.execute(db);
    try {
      const failed = await post(browser, codePage, '/account/phone/verify', { code: sms.lastCode(NEW) });
      expect(failed.page?.status).toBe(500);
    } finally {
      await sql`drop trigger refuse_sign_out on accounts`.execute(db);
      await sql`drop function refuse_sign_out()`.execute(db);
    }
    expect((await accountRepository(db).findById(accountId))!.phone).toBe(OLD);
    expect((await elsewhere.browser.request(`${t.issuer}/account`)).status).toBe(200);
  });

  it('signs out everywhere although anyone may have stored NUL characters and lone surrogates in provider rows', async () => {
    // Anonymous requests that store request parameters verbatim: an authorization request and a logout.
    const app = await t.addClient('poisoned-app', { mfa: 'optional' });
    const auth = new URL(`${t.issuer}/auth`);
    auth.search = new URLSearchParams({
      client_id: app.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: '\u0000', nonce: 'x\ud800',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    }).toString();
    expect((pageOf(await new Browser('never:').visit(auth.toString()))).status).toBe(200);
    expect((pageOf(await new Browser('never:').visit(`${t.issuer}/session/end?state=%00`))).status).toBeLessThan(500);
    // And a login of someone's own account with a NUL in its nonce and a refresh token (it lasts 14 days).
    await t.addUser('mallory', 'mallorys-long-password');
    const rp = await relyingParty(t, app);
    const nonce = 'a\u0000b';
    const attempt = await startLogin(rp, { scope: 'openid offline_access', prompt: 'consent', nonce });
    const mallory = await exchange(rp, { ...attempt, nonce }, callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'mallory', 'mallorys-long-password')));
    expect(mallory.refresh_token).toBeTruthy();
    const poisoned = await sql<{ model: string }>`select model from oidc_payloads where payload::text like '%\\u0000%'`.execute(t.database.db);
    expect(poisoned.rows.map((r) => r.model)).toEqual(expect.arrayContaining(['Interaction', 'Session', 'RefreshToken']));

    const fays = await relyingParty(t, await t.addClient('fays-app'));
    const offline = await toSecondStep(fays, 'fay', 'fays-long-password', { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchange(fays, offline.attempt, callbackOf(await submitStep(offline.attempt.browser, pageOf(offline.next), 'sms-otp', { code: sms.lastCode(OLD) })));
    const { browser, page } = await signedIn();
    const out = await post(browser, page, '/account/sign-out-everywhere');
    expect(out.postStatus).toBe(303);
    expect(alertText(pageOf(out).html)).toMatch(/signed out everywhere/);
    await expect(oidc.refreshTokenGrant(fays.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(fays.config, tokens.access_token, tokens.claims()!.sub)).rejects.toMatchObject(TOKEN_REFUSED);
    // Only fay's rows went.
    expect((await oidc.refreshTokenGrant(rp.config, mallory.refresh_token!)).access_token).toBeTruthy();
  });
});
