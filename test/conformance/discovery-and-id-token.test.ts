import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackOf, exchange, startLogin } from '../support/rp.ts';
import { callbackError, login, SAM, signIn, startConformance, type Conformance } from './conformance-app.ts';

type Jwk = JsonWebKey & { kid: string; alg: string; use?: string };

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('Basic OP: discovery, the code flow with the SMS step, the ID token', () => {
  let c: Conformance;

  beforeAll(async () => { c = await startConformance(); });
  afterAll(() => c.close());

  it('OP-Discovery-Config: the discovery document has the fields a Basic RP needs, with the issuer it is served from', async () => {
    const response = await fetch(`${c.t.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = await response.json() as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: c.t.issuer,
      authorization_endpoint: `${c.t.issuer}/auth`,
      token_endpoint: `${c.t.issuer}/token`,
      userinfo_endpoint: `${c.t.issuer}/me`,
      jwks_uri: `${c.t.issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      acr_values_supported: ['urn:keystep:acr:pwd', 'urn:keystep:acr:mfa', 'urn:keystep:acr:phr'],
      claims_parameter_supported: true,
      request_uri_parameter_supported: false,
    });
    expect(doc.id_token_signing_alg_values_supported).toContain('RS256');
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'phone', 'offline_access']));
    expect(doc.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(doc.claims_supported).toEqual(expect.arrayContaining(['sub', 'iss', 'acr', 'amr', 'auth_time', 'preferred_username', 'phone_number', 'phone_number_verified']));
    // Keystep takes no request objects, so it must not claim to.
    expect(doc.request_parameter_supported ?? false).toBe(false);
    // openid-client accepts the document (it checks the issuer matches).
    expect(c.rp.config.serverMetadata().issuer).toBe(c.t.issuer);
  });

  it('OP-Discovery-JWKs: the JWKS holds public signing keys only', async () => {
    const { keys } = await (await fetch(`${c.t.issuer}/jwks`)).json() as { keys: (Jwk & { d?: string })[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.kid).toBeTruthy();
      expect(key.d).toBeUndefined();
    }
  });

  it('OP-Response-code: a code flow login with the password and the SMS code from the gateway returns a code and tokens', async () => {
    const before = c.gateway.received.length;
    const { tokens, claims, callback } = await login(c);
    expect(new URL(callback).searchParams.get('code')).toBeTruthy();
    expect(c.gateway.received.length).toBe(before + 1);
    expect(c.gateway.received.at(-1)!.form.get('To')).toBe(SAM.phone);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(claims.sub).toBe(c.samId);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('OP-nonce-code: the nonce of the request is in the ID token', async () => {
    const { claims } = await login(c, { nonce: 'n-0S6_WzA2Mj' });
    expect(claims.nonce).toBe('n-0S6_WzA2Mj');
  });

  it('OP-nonce-NoReq-code: a code flow request without a nonce succeeds, and the ID token has none', async () => {
    const attempt = await startLogin(c.rp, {}, undefined, ['nonce']);
    const callback = await signIn(c, attempt);
    const tokens = await oidc.authorizationCodeGrant(c.rp.config, new URL(callback), { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, idTokenExpected: true });
    expect(tokens.claims()!.nonce).toBeUndefined();
  });

  it('OP-IDToken-Signature: the ID token is signed (RS256) by a key in the JWKS, and iss, aud, exp and iat are right', async () => {
    const startedAt = Math.floor(Date.now() / 1000);
    const { tokens } = await login(c);
    const [header, payload, signature] = tokens.id_token!.split('.') as [string, string, string];
    const head = decodePart(header);
    expect(head.alg).toBe('RS256');
    const { keys } = await (await fetch(`${c.t.issuer}/jwks`)).json() as { keys: Jwk[] };
    const jwk = keys.find((k) => k.kid === head.kid);
    expect(jwk).toBeDefined();
    const key = createPublicKey({ key: jwk!, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))).toBe(true);
    // One changed byte of the payload breaks it: the check above is a real one.
    const tampered = Buffer.from(`${header}.${payload.slice(0, -2)}${payload.at(-2) === 'A' ? 'B' : 'A'}${payload.at(-1)}`);
    expect(verify('sha256', tampered, key, Buffer.from(signature, 'base64url'))).toBe(false);

    const claims = decodePart(payload) as { iss: string; aud: string | string[]; exp: number; iat: number; sub: string; auth_time: number };
    expect(claims.iss).toBe(c.t.issuer);
    expect(claims.aud).toBe('conformance-rp');
    expect(claims.iat).toBeGreaterThanOrEqual(startedAt - 1);
    expect(claims.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    expect(claims.exp - claims.iat).toBe(c.t.config.tokens.idTokenTtlSeconds);
    expect(claims.auth_time).toBeLessThanOrEqual(claims.iat);
  });

  it('OP-scope-profile: scope profile gives preferred_username at userinfo', async () => {
    const { tokens } = await login(c, { scope: 'openid profile' });
    const info = await oidc.fetchUserInfo(c.rp.config, tokens.access_token, c.samId);
    expect(info.preferred_username).toBe(SAM.username);
    expect(info.phone_number).toBeUndefined();
  });

  it('OP-scope-phone: scope phone gives the verified phone_number at userinfo', async () => {
    const { tokens } = await login(c, { scope: 'openid phone' });
    const info = await oidc.fetchUserInfo(c.rp.config, tokens.access_token, c.samId);
    expect(info).toMatchObject({ phone_number: SAM.phone, phone_number_verified: true });
    expect(info.preferred_username).toBeUndefined();
  });

  it('OP-Req-NotUnderstood: an unknown request parameter is ignored', async () => {
    const { claims } = await login(c, { extra_parameter_not_understood: 'foobar' });
    expect(claims.sub).toBe(c.samId);
  });

  it('OP-Response-Missing: a request without response_type is refused with an error, and no code', async () => {
    const attempt = await startLogin(c.rp, {}, undefined, ['response_type']);
    const callback = callbackOf(attempt.visit);
    expect(callbackError(callback)).toMatchObject({ error: 'invalid_request', description: "missing required parameter 'response_type'", state: attempt.state });
    expect(new URL(callback).searchParams.get('code')).toBeNull();
  });

  it('OP-Response-id_token (and other types): response types other than code are refused with unsupported_response_type', async () => {
    for (const responseType of ['id_token', 'token', 'code id_token', 'code token', 'none']) {
      const attempt = await startLogin(c.rp, { response_type: responseType });
      const callback = new URL(callbackOf(attempt.visit));
      // The error goes where that response type would have sent its answer: the fragment, or the query for none.
      const answer = new URLSearchParams(callback.hash.slice(1) || callback.search);
      expect(answer.get('error'), responseType).toBe('unsupported_response_type');
      expect(answer.get('code'), responseType).toBeNull();
    }
  });

  it('OP-ClientAuth-Basic-Static: the token request authenticates with client_secret_basic; a wrong secret is refused', async () => {
    const attempt = await startLogin(c.rp);
    const callback = await signIn(c, attempt);
    const wrong = new oidc.Configuration(c.rp.config.serverMetadata(), 'conformance-rp', 'not-the-secret', oidc.ClientSecretBasic('not-the-secret'));
    oidc.allowInsecureRequests(wrong);
    await expect(oidc.authorizationCodeGrant(wrong, new URL(callback), { pkceCodeVerifier: attempt.verifier, expectedNonce: attempt.nonce, expectedState: attempt.state }))
      .rejects.toMatchObject({ status: 401, cause: [{ scheme: 'basic', parameters: { error: 'invalid_client' } }] });
    // The failed try did not spend the code.
    expect((await exchange(c.rp, attempt, callback)).access_token).toBeTruthy();
  });

  it('OP-Req-state: the state is echoed unchanged on the redirect', async () => {
    const state = 'state-with_~.chars';
    const { callback } = await login(c, { state });
    expect(new URL(callback).searchParams.get('state')).toBe(state);
  });
});
