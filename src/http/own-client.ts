import { hash } from 'node:crypto';
import { validateAuthResponse } from 'oauth4webapi';
import * as oidc from 'openid-client';

/** An authorization request of Keystep's own relying parties, and what they keep to check its answer. */
export interface SignInRequest {
  url: URL;
  state: string;
  verifier: string;
}

/**
 * Code + PKCE (S256) and state, by openid-client. The challenge is hashed synchronously rather than
 * with `calculatePKCECodeChallenge`: the account page's callers of its sign-in do not await it.
 */
export function signInRequest(config: oidc.Configuration, redirectUri: string, params: Record<string, string>): SignInRequest {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    ...params, redirect_uri: redirectUri, state, code_challenge: hash('sha256', verifier, 'base64url'), code_challenge_method: 'S256',
  });
  return { url, state, verifier };
}

/** The development issuer is http; production refuses one (start-up checks it). */
export function allowHttpIssuer(issuer: string): Array<(config: oidc.Configuration) => void> {
  return new URL(issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
}

/**
 * Keystep as a relying party of itself, from the metadata it already knows: no discovery request
 * (a production server often cannot reach its own public address).
 */
export function ownConfiguration(issuer: string, clientId: string): oidc.Configuration {
  const config = new oidc.Configuration({
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    // Keystep names itself in every authorization response (RFC 9207): one without `iss` is refused.
    authorization_response_iss_parameter_supported: true,
    code_challenge_methods_supported: ['S256'],
  }, clientId, { token_endpoint_auth_method: 'none' }, oidc.None());
  for (const allow of allowHttpIssuer(issuer)) allow(config);
  return config;
}

/**
 * Whether an authorization response (the callback's URL) is this browser's and a success: `iss`,
 * `state`, no `error`, a code. Checked by oauth4webapi (the library under openid-client, which has
 * no call that checks a response without redeeming its code).
 */
export function authorizationResponseValid(config: oidc.Configuration, callbackUrl: URL, expectedState: string): boolean {
  try {
    const params = validateAuthResponse(config.serverMetadata(), config.clientMetadata(), callbackUrl, expectedState);
    return Boolean(params.get('code'));
  } catch {
    return false;
  }
}
