import { issueBackupCodes } from '../../src/login/factors/backup-code/codes.ts';
import { backupCodeRepository } from '../../src/repositories/backup-codes.ts';
import { cryptoRandom } from '../../src/shared/random.ts';
import type { TestApp } from '../support/app.ts';
import { Browser, hiddenValue, type Page } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, startLogin, submitPassword, submitStep, type RelyingParty } from '../support/rp.ts';
import type { RecordingSender } from '../support/sms.ts';
import type { RawResponse } from '../support/raw-http.ts';
import { plainForm, toRaw, type FuzzRequest } from './arbitraries.ts';
import { sendChecked } from './harness.ts';

export const PASSWORD = 'a-long-enough-fuzz-password';

/** A login stopped on one page: what a property needs to post forms of that state. */
export interface Partway {
  browser: Browser;
  page: Page;
  /** `/interaction/<uid>` */
  path: string;
  refs: Record<string, string>;
  /**
   * Sends a fuzzed request at `path` with this login's cookies and references, keeps the cookies it
   * sets, and follows redirects within Keystep as a browser would: no answer on the way may be a 5xx.
   */
  send(req: FuzzRequest, path: string): Promise<Landing>;
}

let users = 0;

/** A new account for each run, so no run's lock, throttle or SMS budget reaches the next. */
export async function freshUser(t: TestApp, options: { phone?: boolean; backupCodes?: boolean } = {}) {
  const n = ++users;
  const username = `fuzz-user-${n}`;
  const phone = options.phone ? `+4474${String(n).padStart(8, '0')}` : null;
  const id = await t.addUser(username, PASSWORD, phone);
  const codes = options.backupCodes ? await issueBackupCodes(backupCodeRepository(t.database.db), t.hasher, cryptoRandom, id) : [];
  return { id, username, phone, codes };
}

/** Where a request and the redirects it was followed through ended. */
export interface Landing extends RawResponse {
  /** Path and query of the last request. */
  path: string;
  /** A redirect out of Keystep (to the app) that was not followed. */
  leftTo?: URL;
}

/** Sends with the jar's cookies, keeps the ones set, follows redirects within Keystep. */
export async function sendWithJar(t: TestApp, jar: Browser['jar'], req: FuzzRequest, path: string, refs: Record<string, string>): Promise<Landing> {
  let raw = toRaw(req, path, refs, { cookie: await jar.getCookieString(`${t.issuer}${path}`) });
  for (let hop = 0; ; hop++) {
    const url = `${t.issuer}${raw.path}`;
    const response = await sendChecked(t, raw);
    for (const cookie of [response.headers['set-cookie'] ?? []].flat()) await jar.setCookie(cookie, url, { ignoreError: true });
    const location = response.headers.location;
    if (hop >= 4 || response.status < 300 || response.status >= 400 || typeof location !== 'string') return { ...response, path: raw.path };
    const next = new URL(location, url);
    if (next.origin !== t.issuer) return { ...response, path: raw.path, leftTo: next };
    raw = { method: 'GET', path: `${next.pathname}${next.search}`, headers: { accept: 'text/html', cookie: await jar.getCookieString(next.toString()) } };
  }
}

function partway(t: TestApp, browser: Browser, page: Page, extra: Record<string, string>): Partway {
  const path = new URL(page.url).pathname;
  const refs = { csrf: hiddenValue(page.html, '_csrf'), uid: path.split('/')[2] ?? '', ...extra };
  return { browser, page, path, refs, send: (req, at) => sendWithJar(t, browser.jar, req, at, refs) };
}

/** A fresh authorization request, on the password page. */
export async function atPasswordPage(t: TestApp, rp: RelyingParty, params: Record<string, string> = {}): Promise<Partway> {
  const attempt = await startLogin(rp, params);
  return partway(t, attempt.browser, pageOf(attempt.visit), {});
}

/** After the password of an account with a number (and backup codes): on the SMS code page. */
export async function atCodePage(t: TestApp, rp: RelyingParty, sender: RecordingSender): Promise<Partway> {
  const user = await freshUser(t, { phone: true, backupCodes: true });
  const start = await atPasswordPage(t, rp);
  const page = pageOf(await submitPassword(start.browser, start.page, user.username, PASSWORD));
  return partway(t, start.browser, page, { username: user.username, code: sender.lastCode(user.phone!), backupCode: user.codes[0]! });
}

/**
 * After the password of an account with no number: on the phone-capture page. Once a code went to
 * the number it offers, `refs.code` holds it.
 */
export async function atPhoneCapture(t: TestApp, rp: RelyingParty, sender: RecordingSender): Promise<Partway> {
  const user = await freshUser(t, { backupCodes: true });
  const start = await atPasswordPage(t, rp);
  const page = pageOf(await submitPassword(start.browser, start.page, user.username, PASSWORD));
  const phone = `+4475${String(users).padStart(8, '0')}`;
  const login = partway(t, start.browser, page, { username: user.username, backupCode: user.codes[0]!, phone, code: '' });
  return {
    ...login,
    async send(req, path) {
      const landing = await login.send(req, path);
      if (sender.to(phone).length) login.refs.code = sender.lastCode(phone);
      return landing;
    },
  };
}

/** Signed in at Keystep through the account page's own login (password and SMS code), on /account. */
export async function atAccountPage(t: TestApp, sender: RecordingSender): Promise<Partway & { phone: string }> {
  const user = await freshUser(t, { phone: true });
  const browser = new Browser('never:');
  const login = pageOf(await browser.visit(`${t.issuer}/account`));
  const codePage = pageOf(await submitPassword(browser, login, user.username, PASSWORD));
  const page = pageOf(await submitStep(browser, codePage, 'sms-otp', { code: sender.lastCode(user.phone!) }));
  return { ...partway(t, browser, page, { newPhone: `+4477${String(users).padStart(8, '0')}` }), phone: user.phone! };
}

/** After the password and the SMS code, for a client that asks: on the consent page. */
export async function atConsentPage(t: TestApp, rp: RelyingParty, sender: RecordingSender): Promise<Partway> {
  const login = await atCodePage(t, rp, sender);
  const page = pageOf(await submitStep(login.browser, login.page, 'sms-otp', { code: login.refs.code! }));
  return partway(t, login.browser, page, {});
}

/** After the password and a backup code: on the notice page (codes left) with its Continue button. */
export async function atNoticePage(t: TestApp, rp: RelyingParty, sender: RecordingSender): Promise<Partway> {
  const login = await atCodePage(t, rp, sender);
  const backup = pageOf(await submitStep(login.browser, login.page, 'sms-otp', { action: 'backup' }));
  const page = pageOf(await submitStep(login.browser, backup, 'backup-code', { code: login.refs.backupCode! }));
  return partway(t, login.browser, page, {});
}

/**
 * From wherever an authorization request landed: if on the password page, signs a new account
 * (with a number) in with its password and SMS code, each request checked. Returns the redirect
 * to the app, if the login got that far.
 */
export async function signInFrom(t: TestApp, jar: Browser['jar'], landing: Landing, sender: RecordingSender): Promise<URL | undefined> {
  let at = landing;
  const html = () => at.body.toString('utf8');
  if (!html().includes('name="step" value="password"')) return at.leftTo;
  const user = await freshUser(t, { phone: true });
  const post = (fields: Record<string, string>) => sendWithJar(t, jar, plainForm({ _csrf: hiddenValue(html(), '_csrf'), ...fields }), at.path.split('?')[0]!, {});
  at = await post({ step: 'password', username: user.username, password: PASSWORD });
  if (!html().includes('name="step" value="sms-otp"')) return at.leftTo;
  at = await post({ step: 'sms-otp', code: sender.lastCode(user.phone!) });
  return at.leftTo;
}

/**
 * A full login of a new account (password and SMS code, refresh token included): the browser keeps
 * its session, and `refs` hold its tokens, an authorization code not yet exchanged (from a second
 * request the session answered at once) with its verifier, and the client's credentials.
 */
export async function withTokens(t: TestApp, rp: RelyingParty, sender: RecordingSender, basicAuth: string) {
  const user = await freshUser(t, { phone: true });
  const params = { scope: 'openid profile phone offline_access', prompt: 'consent' };
  const first = await startLogin(rp, params);
  const codePage = pageOf(await submitPassword(first.browser, pageOf(first.visit), user.username, PASSWORD));
  const tokens = await exchange(rp, first, callbackOf(await submitStep(first.browser, codePage, 'sms-otp', { code: sender.lastCode(user.phone!) })));
  const second = await startLogin(rp, params, first.browser);
  const code = new URL(callbackOf(second.visit)).searchParams.get('code')!;
  const refs: Record<string, string> = {
    accessToken: tokens.access_token, refreshToken: tokens.refresh_token!, idToken: tokens.id_token!, code, verifier: second.verifier,
    bearer: `Bearer ${tokens.access_token}`, basic: basicAuth,
  };
  return { browser: first.browser, refs, send: (req: FuzzRequest, path: string) => sendWithJar(t, first.browser.jar, req, path, refs) };
}
