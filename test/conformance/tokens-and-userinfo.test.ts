import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIRECT_URI } from '../support/app.ts';
import { exchange, startLogin } from '../support/rp.ts';
import { login, SAM, signIn, startConformance, type Conformance } from './conformance-app.ts';

const OFFLINE = { scope: 'openid profile offline_access', prompt: 'consent' };

describe('Basic OP: codes, redirect URIs, userinfo and refresh tokens', () => {
  let c: Conformance;

  beforeAll(async () => { c = await startConformance(); });
  afterAll(() => c.close());

  const userinfo = (init: RequestInit) => fetch(`${c.t.issuer}/me`, init);

  it('OP-OAuth-2nd: a second exchange of one code fails with invalid_grant, and the tokens of the first are revoked (RFC 6749 §4.1.2)', async () => {
    const attempt = await startLogin(c.rp, OFFLINE);
    const callback = await signIn(c, attempt);
    const first = await exchange(c.rp, attempt, callback);
    expect(first.refresh_token).toBeTruthy();
    expect((await oidc.fetchUserInfo(c.rp.config, first.access_token, c.samId)).sub).toBe(c.samId);

    await expect(exchange(c.rp, attempt, callback)).rejects.toMatchObject({ error: 'invalid_grant' });
    const revoked = await userinfo({ headers: { authorization: `Bearer ${first.access_token}` } });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    await expect(oidc.refreshTokenGrant(c.rp.config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('OP-redirect_uri-NotReg: an unregistered redirect_uri gets an error page at Keystep and is never redirected to', async () => {
    const near = [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, `${REDIRECT_URI}x`, REDIRECT_URI.replace('127.0.0.1', 'localhost'), 'https://attacker.example/callback'];
    for (const redirectUri of near) {
      const url = oidc.buildAuthorizationUrl(c.rp.config, {
        redirect_uri: redirectUri, scope: 'openid', state: 'st', nonce: 'n',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
      });
      const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
      const html = await response.text();
      expect(response.status, redirectUri).toBe(400);
      expect(response.headers.get('location'), redirectUri).toBeNull();
      expect(html, redirectUri).toContain('redirect_uri');
      expect(html, redirectUri).toContain('Sign-in request not accepted');
    }
  });

  it('OP-redirect_uri-token-mismatch: a token request with a redirect_uri other than the authorization request\'s gets invalid_grant', async () => {
    const attempt = await startLogin(c.rp);
    const callback = await signIn(c, attempt);
    const code = new URL(callback).searchParams.get('code')!;
    const response = await fetch(`${c.t.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`conformance-rp:${c.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${REDIRECT_URI}/other`, code_verifier: attempt.verifier }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('OP-UserInfo-Endpoint: userinfo by GET with the access token in a bearer header', async () => {
    const { tokens } = await login(c);
    const info = await oidc.fetchUserInfo(c.rp.config, tokens.access_token, c.samId);
    expect(info).toMatchObject({ sub: c.samId, preferred_username: SAM.username });
  });

  it('OP-UserInfo-Header: userinfo by POST with the access token in a bearer header', async () => {
    const { tokens } = await login(c);
    const response = await oidc.fetchProtectedResource(c.rp.config, tokens.access_token, new URL(`${c.t.issuer}/me`), 'POST');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: c.samId, preferred_username: SAM.username });
  });

  it('OP-UserInfo-Body: userinfo by POST with the access token in a form body', async () => {
    const { tokens } = await login(c);
    const response = await userinfo({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: tokens.access_token }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: c.samId, preferred_username: SAM.username });
  });

  it('OP-UserInfo-NoToken: userinfo without an access token answers 401 with a bearer challenge', async () => {
    const response = await userinfo({});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('OP-Refresh-Token: a refresh token gets new tokens and rotates; the used one then fails with invalid_grant', async () => {
    const { tokens } = await login(c, OFFLINE);
    expect(tokens.scope?.split(' ')).toContain('offline_access');
    const first = tokens.refresh_token!;
    const refreshed = await oidc.refreshTokenGrant(c.rp.config, first);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first);
    expect(refreshed.claims()).toMatchObject({ sub: c.samId, acr: 'urn:keystep:acr:mfa', amr: ['pwd', 'sms', 'mfa'] });
    expect((await oidc.fetchUserInfo(c.rp.config, refreshed.access_token, c.samId)).sub).toBe(c.samId);
    await expect(oidc.refreshTokenGrant(c.rp.config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('OP-Refresh-offline_access-without-consent: offline_access without prompt=consent gives no refresh token (OIDC Core §11)', async () => {
    const { tokens } = await login(c, { scope: 'openid profile offline_access' });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope?.split(' ')).not.toContain('offline_access');
    expect(tokens.access_token).toBeTruthy();
  });
});
