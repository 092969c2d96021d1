import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST_LOGOUT_URI, startTestApp, type TestApp } from '../support/app.ts';
import { callbackOf, exchange, pageOf, passwordLogin, relyingParty, startLogin, submitPassword, TOKEN_REFUSED, type RelyingParty } from '../support/rp.ts';

describe('password login end to end (openid-client as the relying party)', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let accountId: string;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { smsOtp: { mandatory: false } } });
    accountId = await t.addUser('alice', 'a-long-enough-password');
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  it('logs in with code + PKCE and returns ID token claims', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { tokens, attempt } = await passwordLogin(rp, 'alice', 'a-long-enough-password');
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(accountId);
    expect(claims.iss).toBe(t.issuer);
    expect(claims.aud).toBe('web-app');
    expect(claims.nonce).toBe(attempt.nonce);
    expect(claims.acr).toBe('urn:keystep:acr:pwd');
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
  });

  it('usernames are case-insensitive and the login page is accessible', async () => {
    const attempt = await startLogin(rp);
    const page = pageOf(attempt.visit);
    expect(page.status).toBe(200);
    expect(page.html).toContain('autocomplete="username"');
    expect(page.html).toContain('autocomplete="current-password"');
    expect(page.html).toMatch(/<label for="username">/);
    expect(page.html).not.toMatch(/<script/i);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const result = await submitPassword(attempt.browser, page, 'ALICE', 'a-long-enough-password');
    expect(result.postStatus).toBe(303);
    const tokens = await exchange(rp, attempt, callbackOf(result));
    expect(tokens.claims()!.sub).toBe(accountId);
  });

  it('keeps the session for an hour of idleness at most', async () => {
    await passwordLogin(rp, 'alice', 'a-long-enough-password');
    const session = await t.database.db.selectFrom('oidc_payloads').select('expires_at').where('model', '=', 'Session').orderBy('expires_at', 'desc').executeTakeFirstOrThrow();
    const seconds = (session.expires_at!.getTime() - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(3500);
    expect(seconds).toBeLessThanOrEqual(3600);
  });

  it('serves userinfo for the access token', async () => {
    const { tokens } = await passwordLogin(rp, 'alice', 'a-long-enough-password');
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, accountId);
    expect(info.sub).toBe(accountId);
    expect(info.preferred_username).toBe('alice');
  });

  it('rotates refresh tokens and revokes the grant when a used one comes back', async () => {
    const { tokens } = await passwordLogin(rp, 'alice', 'a-long-enough-password', { scope: 'openid offline_access', prompt: 'consent' });
    expect(tokens.refresh_token).toBeTruthy();
    const first = tokens.refresh_token!;
    const rotated = await oidc.refreshTokenGrant(rp.config, first);
    expect(rotated.refresh_token).toBeTruthy();
    expect(rotated.refresh_token).not.toBe(first);
    expect(rotated.claims()!.amr).toEqual(['pwd']);
    // Reuse of the first token: refused, and the whole grant (including the new token) is revoked.
    await expect(oidc.refreshTokenGrant(rp.config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(rp.config, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('revokes a refresh token on request', async () => {
    const { tokens } = await passwordLogin(rp, 'alice', 'a-long-enough-password', { scope: 'openid offline_access', prompt: 'consent' });
    await oidc.tokenRevocation(rp.config, tokens.refresh_token!);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a replayed authorization code and revokes what it issued', async () => {
    const attempt = await startLogin(rp);
    const callback = callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'alice', 'a-long-enough-password'));
    const tokens = await exchange(rp, attempt, callback);
    await expect(exchange(rp, attempt, callback)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, accountId)).rejects.toMatchObject(TOKEN_REFUSED);
  });

  it('lets exactly one of two parallel token requests with one code succeed', async () => {
    for (let round = 0; round < 3; round++) {
      const attempt = await startLogin(rp);
      const callback = callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'alice', 'a-long-enough-password'));
      const results = await Promise.allSettled([exchange(rp, attempt, callback), exchange(rp, attempt, callback)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toMatchObject({ error: 'invalid_grant' });
    }
  });

  it('skips the login page while the session lives, and logs out (RP-initiated)', async () => {
    const attempt = await startLogin(rp);
    const callback = callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'alice', 'a-long-enough-password'));
    const tokens = await exchange(rp, attempt, callback);

    const again = await startLogin(rp, {}, attempt.browser);
    expect(again.visit.callback).toBeTruthy();

    const logoutUrl = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI });
    const confirm = pageOf(await attempt.browser.visit(logoutUrl.toString()));
    expect(confirm.html).toContain('Yes, sign me out');
    expect(confirm.html).not.toMatch(/<script/i);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
    const done = await attempt.browser.request(new URL('/session/end/confirm', t.issuer).toString(), {
      method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(), contentType: 'application/x-www-form-urlencoded',
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(POST_LOGOUT_URI);

    const afterLogout = await startLogin(rp, {}, attempt.browser);
    expect(pageOf(afterLogout.visit).html).toContain('name="password"');
  });
});
