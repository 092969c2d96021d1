import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGateway } from '../support/fake-gateway.ts';
import { formAction, hiddenValue } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitPassword, submitStep } from '../support/rp.ts';
import { callbackError, login, PAT, SAM, signIn, startConformance, type Conformance } from './conformance-app.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('Basic OP: the claims parameter, request objects, PKCE', () => {
  let c: Conformance;

  beforeAll(async () => { c = await startConformance(); });
  afterAll(() => c.close());

  /** The authorization parameters openid-client would send, as the claims of a request object. */
  async function requestObjectClaims() {
    const attempt = await startLogin(c.rp);
    const sent = Object.fromEntries(new URL(pageOf(attempt.visit).url).searchParams);
    return { attempt, sent };
  }

  it('OP-claims-essential: essential claims asked for in the ID token come in the ID token, with scope openid alone', async () => {
    const claims = JSON.stringify({ id_token: { phone_number: { essential: true }, preferred_username: { essential: true } } });
    const { claims: idToken } = await login(c, { scope: 'openid', claims });
    expect(idToken).toMatchObject({ sub: c.samId, phone_number: SAM.phone, preferred_username: SAM.username });
  });

  it('OP-claims-userinfo: claims asked for at userinfo come from userinfo and stay out of the ID token', async () => {
    const claims = JSON.stringify({ userinfo: { phone_number: null, phone_number_verified: null } });
    const { tokens, claims: idToken } = await login(c, { scope: 'openid', claims });
    expect(idToken.phone_number).toBeUndefined();
    const info = await oidc.fetchUserInfo(c.rp.config, tokens.access_token, c.samId);
    expect(info).toMatchObject({ sub: c.samId, phone_number: SAM.phone, phone_number_verified: true });
    expect(info.preferred_username).toBeUndefined();
  });

  it('OP-claims-consent: a third-party client asking for a claim by the claims parameter gets it only once the user allowed it on the consent page', async () => {
    const partner = await relyingParty(c.t, await c.t.addClient('partner-rp', { consent: true }));
    const attempt = await startLogin(partner, { scope: 'openid', claims: JSON.stringify({ userinfo: { phone_number: { essential: true } } }) });
    const codePage = pageOf(await submitPassword(attempt.browser, pageOf(attempt.visit), SAM.username, SAM.password));
    const consent = pageOf(await submitStep(attempt.browser, codePage, 'sms-otp', { code: c.gateway.lastCode(SAM.phone) }));
    expect(consent.html).toContain('<li data-scope="phone_number">see your mobile number</li>');
    const allowed = await attempt.browser.submit(new URL(formAction(consent.html), consent.url).toString(), { _csrf: hiddenValue(consent.html, '_csrf') });
    const tokens = await exchange(partner, attempt, callbackOf(allowed));
    expect((await oidc.fetchUserInfo(partner.config, tokens.access_token, c.samId)).phone_number).toBe(SAM.phone);
  });

  it('OP-claims-acr-essential: an essential MFA acr asks an exempt user for the SMS code, and the ID token says so', async () => {
    const plain = await login(c, {}, { user: PAT });
    expect(plain.claims.acr).toBe('urn:keystep:acr:pwd');
    const before = c.gateway.to(PAT.phone).length;
    const claims = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:keystep:acr:mfa'] } } });
    const { claims: idToken } = await login(c, { claims }, { user: PAT });
    expect(c.gateway.to(PAT.phone).length).toBe(before + 1);
    expect(idToken.acr).toBe('urn:keystep:acr:mfa');
    expect(idToken.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('OP-claims-acr-essential-unobtainable: an essential acr Keystep cannot give this user ends the login with access_denied instead of asking again', async () => {
    const claims = JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:keystep:acr:pwd' } } });
    const attempt = await startLogin(c.rp, { claims });
    expect(callbackError(await signIn(c, attempt))).toMatchObject({ error: 'access_denied', state: attempt.state });
  });

  it('OP-claims-acr-voluntary: a voluntary MFA acr in the claims parameter steps a password-only session up, as acr_values does', async () => {
    const { attempt } = await login(c, {}, { user: PAT });
    const claims = JSON.stringify({ id_token: { acr: { values: ['urn:keystep:acr:mfa'] } } });
    const silent = await startLogin(c.rp, { claims, prompt: 'none' }, attempt.browser);
    expect(callbackError(callbackOf(silent.visit))).toMatchObject({ error: 'login_required', state: silent.state });
    const stepUp = await startLogin(c.rp, { claims }, attempt.browser);
    // Only the second factor: the session's password is recent.
    expect(pageOf(stepUp.visit).html).not.toContain('name="password"');
    expect((await exchange(c.rp, stepUp, await signIn(c, stepUp, PAT))).claims()!.acr).toBe('urn:keystep:acr:mfa');
  });

  it('OP-claims-invalid: a claims parameter of a wrong shape is refused with invalid_request, an odd but valid one shows the login page, never a 500', async () => {
    const refused = ['{"id_token":', 'x'.repeat(5000), '[]', '"x"', 'null', '1', '{"id_token":"x"}', '{"id_token":[]}', '{"id_token":{"acr":"x"}}',
      '{"id_token":{"acr":{"essential":true,"values":"x"}}}', '{"__proto__":{"a":1}}'];
    for (const claims of refused) {
      const attempt = await startLogin(c.rp, { claims });
      expect(callbackError(callbackOf(attempt.visit)), claims).toMatchObject({ error: 'invalid_request', state: attempt.state });
    }
    const odd = ['{"id_token":{"acr":{"essential":true,"value":5}}}', '{"id_token":{"acr":{"essential":true,"values":[null,1]}}}', '{"id_token":{"acr":{"values":null}}}',
      '{"userinfo":{"phone_number":{"essential":"yes"}}}', '{"id_token":{"x\\u0000":null}}'];
    for (const claims of odd) expect(pageOf((await startLogin(c.rp, { claims })).visit).status, claims).toBe(200);
  });

  it('OP-request-Unsigned: an unsigned request object (alg none) is refused as unsupported, as discovery says', async () => {
    const { sent } = await requestObjectClaims();
    const request = `${b64({ alg: 'none' })}.${b64({ ...sent, iss: 'conformance-rp', aud: c.t.issuer })}.`;
    const attempt = await startLogin(c.rp, { request });
    expect(callbackError(callbackOf(attempt.visit)).error).toBe('request_not_supported');
  });

  it('OP-request-Sig: a request object signed with the client secret (HS256) is refused as unsupported, as discovery says', async () => {
    const { sent } = await requestObjectClaims();
    const input = `${b64({ alg: 'HS256', typ: 'oauth-authz-req+jwt' })}.${b64({ ...sent, iss: 'conformance-rp', aud: c.t.issuer })}`;
    const request = `${input}.${createHmac('sha256', c.clientSecret).update(input).digest('base64url')}`;
    const attempt = await startLogin(c.rp, { request });
    expect(callbackError(callbackOf(attempt.visit)).error).toBe('request_not_supported');
  });

  it('OP-request_uri-Unsigned: a request_uri of the app is refused as unsupported, and Keystep never fetches it', async () => {
    const host = await FakeGateway.start();
    try {
      const { sent } = await requestObjectClaims();
      host.reply = () => ({ status: 200, body: `${b64({ alg: 'none' })}.${b64({ ...sent, iss: 'conformance-rp', aud: c.t.issuer })}.` });
      const attempt = await startLogin(c.rp, { request_uri: `${host.origin}/request.jwt` });
      expect(callbackError(callbackOf(attempt.visit)).error).toBe('request_uri_not_supported');
      expect(host.received).toHaveLength(0);
    } finally {
      await host.stop();
    }
  });

  it('PAR (RFC 9126, advertised in discovery): a pushed request logs in, and its request_uri works once', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = await oidc.buildAuthorizationUrlWithPAR(c.rp.config, {
      redirect_uri: c.rp.redirectUri, scope: 'openid', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const attempt = { ...(await startLogin(c.rp)), verifier, state, nonce };
    const visit = await attempt.browser.visit(url.toString());
    const callback = await signIn(c, { ...attempt, visit });
    expect((await exchange(c.rp, attempt, callback)).claims()!.sub).toBe(c.samId);
    const again = await attempt.browser.visit(url.toString());
    expect(again.page?.status ?? callbackError(again.callback!).error).toSatisfy((r: unknown) => r === 400 || r === 'invalid_request_uri');
  });

  it('OP-PKCE-required: a request without code_challenge is refused with invalid_request', async () => {
    const attempt = await startLogin(c.rp, {}, undefined, ['code_challenge', 'code_challenge_method']);
    const error = callbackError(callbackOf(attempt.visit));
    expect(error).toMatchObject({ error: 'invalid_request', state: attempt.state });
    expect(error.description).toMatch(/PKCE/);
  });

  it('OP-PKCE-plain: code_challenge_method=plain is refused with invalid_request', async () => {
    const attempt = await startLogin(c.rp, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    const error = callbackError(callbackOf(attempt.visit));
    expect(error).toMatchObject({ error: 'invalid_request', state: attempt.state });
    expect(error.description).toMatch(/code_challenge_method/);
  });

  it('OP-PKCE-verifier: a token request with the wrong code_verifier gets invalid_grant', async () => {
    const attempt = await startLogin(c.rp);
    const callback = await signIn(c, attempt);
    await expect(exchange(c.rp, { ...attempt, verifier: oidc.randomPKCECodeVerifier() }, callback)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
