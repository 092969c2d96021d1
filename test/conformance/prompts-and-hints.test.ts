import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, startLogin } from '../support/rp.ts';
import { ageSessions, callbackError, login, PAT, SAM, signIn, startConformance, type Conformance } from './conformance-app.ts';

const ACR_MFA = 'urn:keystep:acr:mfa';

describe('Basic OP: prompt, max_age, hints, locales and acr_values', () => {
  let c: Conformance;

  beforeAll(async () => { c = await startConformance(); });
  afterAll(() => c.close());

  /** Signs SAM in with a fresh browser, then moves that sign-in 10 seconds into the past. */
  async function agedSession(user = SAM) {
    const first = await login(c, {}, { browser: new Browser(c.rp.redirectUri), user });
    await ageSessions(c.t, 10);
    return { browser: first.attempt.browser, idToken: first.tokens.id_token!, authTime: first.claims.auth_time! - 10 };
  }

  /** A request that the session answers without any page: the tokens it leads to. */
  async function silently(browser: Browser, params: Record<string, string>) {
    const attempt = await startLogin(c.rp, params, browser);
    return (await exchange(c.rp, attempt, callbackOf(attempt.visit))).claims()!;
  }

  it('OP-prompt-login: prompt=login asks a signed-in user to sign in again, and auth_time moves on', async () => {
    const { browser, authTime } = await agedSession();
    expect((await silently(browser, {})).auth_time).toBe(authTime);
    const sent = c.gateway.to(SAM.phone).length;
    const attempt = await startLogin(c.rp, { prompt: 'login' }, browser);
    expect(pageOf(attempt.visit).html).toContain('name="password"');
    const claims = (await exchange(c.rp, attempt, await signIn(c, attempt))).claims()!;
    expect(c.gateway.to(SAM.phone).length).toBe(sent + 1);
    expect(claims.auth_time).toBeGreaterThan(authTime);
  });

  it('OP-prompt-none-NotLoggedIn: prompt=none without a session answers login_required', async () => {
    const attempt = await startLogin(c.rp, { prompt: 'none' });
    expect(callbackError(callbackOf(attempt.visit))).toMatchObject({ error: 'login_required', state: attempt.state });
  });

  it('OP-prompt-none-LoggedIn: prompt=none with a session answers with a code at once, and no SMS is sent', async () => {
    const { browser, authTime } = await agedSession();
    const sent = c.gateway.received.length;
    const claims = await silently(browser, { prompt: 'none' });
    expect(claims).toMatchObject({ sub: c.samId, auth_time: authTime, acr: ACR_MFA });
    expect(c.gateway.received.length).toBe(sent);
  });

  it('OP-Req-max_age=1: a session older than max_age signs in again, and the ID token has the new auth_time', async () => {
    const { browser, authTime } = await agedSession();
    const attempt = await startLogin(c.rp, { max_age: '1' }, browser);
    expect(pageOf(attempt.visit).html).toContain('name="password"');
    const claims = (await exchange(c.rp, attempt, await signIn(c, attempt))).claims()!;
    expect(claims.auth_time).toBeGreaterThan(authTime);
    expect(claims.auth_time).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
  });

  it('OP-Req-max_age=1 with prompt=none: a session older than max_age answers login_required', async () => {
    const { browser } = await agedSession();
    const attempt = await startLogin(c.rp, { max_age: '1', prompt: 'none' }, browser);
    expect(callbackError(callbackOf(attempt.visit)).error).toBe('login_required');
  });

  it('OP-Req-max_age=10000: a session younger than max_age is used as it is, and the ID token has its auth_time', async () => {
    const { browser, authTime } = await agedSession();
    expect(await silently(browser, { max_age: '10000' })).toMatchObject({ sub: c.samId, auth_time: authTime });
  });

  it('OP-Req-id_token_hint: an ID token of the signed-in user as id_token_hint works with prompt=none', async () => {
    const { browser, idToken } = await agedSession();
    expect((await silently(browser, { prompt: 'none', id_token_hint: idToken })).sub).toBe(c.samId);
  });

  it('OP-Req-id_token_hint-other-sub: an id_token_hint of another user answers login_required with prompt=none', async () => {
    const other = await agedSession(PAT);
    const { browser } = await agedSession();
    const attempt = await startLogin(c.rp, { prompt: 'none', id_token_hint: other.idToken }, browser);
    expect(callbackError(callbackOf(attempt.visit))).toMatchObject({ error: 'login_required', state: attempt.state });
    // Without prompt=none the user is asked to sign in (as the hinted user, or to switch).
    const asked = await startLogin(c.rp, { id_token_hint: other.idToken }, browser);
    expect(pageOf(asked.visit).html).toContain('name="password"');
  });

  it('OP-Req-id_token_hint-invalid: an id_token_hint Keystep did not sign is refused with invalid_request', async () => {
    const { browser, idToken } = await agedSession();
    const [header, payload] = idToken.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not a signature').toString('base64url')}`;
    const attempt = await startLogin(c.rp, { prompt: 'none', id_token_hint: forged }, browser);
    expect(callbackError(callbackOf(attempt.visit)).error).toBe('invalid_request');
  });

  it('OP-Req-login_hint: a login_hint fills in the username and the login goes on as usual', async () => {
    const attempt = await startLogin(c.rp, { login_hint: SAM.username });
    const page = pageOf(attempt.visit);
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
    expect(page.html).toMatch(new RegExp(`id="username" name="username"[^>]*value="${SAM.username}"`));
    expect((await exchange(c.rp, attempt, await signIn(c, attempt))).claims()!.sub).toBe(c.samId);
  });

  it('OP-Req-login_hint: a login_hint with markup is shown as text, never as HTML', async () => {
    const hint = '"><form action="https://attacker.example/"><button>x</button></form><input value="';
    const page = pageOf((await startLogin(c.rp, { login_hint: hint })).visit);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('attacker.example/"><button>');
    expect(page.html).toContain('value="&quot;&gt;&lt;form action=&quot;https://attacker.example/&quot;');
  });

  it('OP-Req-ui_locales: ui_locales is accepted (no error) and the login goes on as usual', async () => {
    const { claims } = await login(c, { ui_locales: 'se en-GB' });
    expect(claims.sub).toBe(c.samId);
  });

  it('OP-Req-claims_locales: claims_locales is accepted (no error) and the login goes on as usual', async () => {
    const { claims } = await login(c, { claims_locales: 'se' });
    expect(claims.sub).toBe(c.samId);
  });

  it('OP-display-page: display=page is accepted', async () => {
    const { claims } = await login(c, { display: 'page' });
    expect(claims.sub).toBe(c.samId);
  });

  it('OP-Req-acr_values: acr_values Keystep does not know ("1 2") are accepted, and the ID token has an acr', async () => {
    const { claims } = await login(c, { acr_values: '1 2' });
    expect(claims.acr).toBe(ACR_MFA);
  });

  it('OP-Req-acr_values-mfa: acr_values asking for MFA makes an exempt user pass the SMS step, and acr says so', async () => {
    const plain = await login(c, {}, { user: PAT });
    expect(plain.claims).toMatchObject({ acr: 'urn:keystep:acr:pwd', amr: ['pwd'] });
    const sent = c.gateway.to(PAT.phone).length;
    const { claims } = await login(c, { acr_values: ACR_MFA }, { user: PAT });
    expect(c.gateway.to(PAT.phone).length).toBe(sent + 1);
    expect(claims).toMatchObject({ sub: c.patId, acr: ACR_MFA, amr: ['pwd', 'sms', 'mfa'] });
  });

  it('OP-Req-acr_values-mfa with prompt=none: a password-only session answers login_required', async () => {
    const { browser } = await agedSession(PAT);
    const attempt = await startLogin(c.rp, { acr_values: ACR_MFA, prompt: 'none' }, browser);
    expect(callbackError(callbackOf(attempt.visit))).toMatchObject({ error: 'login_required', state: attempt.state });
  });
});
