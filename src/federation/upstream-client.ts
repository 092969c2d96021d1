import { AuthorizationResponseError, validateAuthResponse } from 'oauth4webapi';
import * as oidc from 'openid-client';
import type { UpstreamClient, UpstreamFailure, UpstreamRequest, UpstreamResult } from '../login/factors/federated/ports.ts';

/** What Keystep needs to be a provider's relying party (the secret never leaves this module's callers' stores). */
export interface UpstreamSettings {
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  /** A stored secret that does not open: the provider is not asked without it. */
  secretUnreadable?: boolean;
  scope: string;
}

/** The fixed address each provider sends its answers to: one per provider, registered there. */
export const callbackPath = (name: string) => `/federation/${encodeURIComponent(name)}/callback`;


/** A subject Keystep can keep: OIDC Core's at most 255 characters, none of them a control character (a NUL no database column takes). */
const subjectProblem = (sub: unknown) => typeof sub !== 'string' || !sub || sub.length > 255 || !sub.isWellFormed() || /\p{Cc}/u.test(sub);

const timedOut = (err: unknown) => err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
/** A failure to get an answer at all: no connection, a time limit, a body that is not JSON. */
const noAnswer = (err: unknown) => timedOut(err) || err instanceof TypeError || (err instanceof Error && timedOut(err.cause));

/**
 * Keystep as the relying party of upstream providers, by openid-client: discovery (kept per
 * provider until its settings change or a call fails), code + PKCE (S256), state, nonce, the `iss`
 * response parameter where the provider announces it (RFC 9207), and the ID token's checks. Every
 * call is limited to `timeoutMs`; each answers a result rather than throwing.
 */
export function upstreamClient(options: { keystepIssuer: string; timeoutMs: number; settings(name: string): Promise<UpstreamSettings | undefined> }): UpstreamClient {
  const discovered = new Map<string, { key: string; config: Promise<oidc.Configuration> }>();
  const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));

  async function configurationOf(name: string): Promise<{ config: oidc.Configuration; settings: UpstreamSettings } | undefined> {
    const settings = await options.settings(name);
    // Without its secret a confidential client would try as a public one: not at all instead.
    if (!settings || settings.secretUnreadable) return undefined;
    const key = JSON.stringify([settings.issuer, settings.clientId, settings.clientSecret ?? null]);
    let entry = discovered.get(name);
    if (!entry || entry.key !== key) {
      // The ID token's signature is checked too (against the provider's published keys), not only
      // its claims, which is all OIDC Core asks of a token that came straight from the token endpoint.
      const execute = [oidc.enableNonRepudiationChecks, ...(new URL(settings.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [])];
      const auth = settings.clientSecret ? oidc.ClientSecretBasic(settings.clientSecret) : oidc.None();
      const config = oidc.discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret ? {} : { token_endpoint_auth_method: 'none' }, auth, { execute, timeout: seconds })
        .then((c) => { c.timeout = seconds; return c; });
      entry = { key, config };
      discovered.set(name, entry);
      // A provider that was down is asked again next time.
      config.catch(() => { if (discovered.get(name) === entry) discovered.delete(name); });
    }
    return { config: await entry.config, settings };
  }

  const redirectUri = (name: string) => `${options.keystepIssuer}${callbackPath(name)}`;

  return {
    async begin(name, request: UpstreamRequest) {
      let found;
      try {
        found = await configurationOf(name);
      } catch {
        return { failed: 'unreachable' as UpstreamFailure };
      }
      if (!found) return { failed: 'unreachable' as UpstreamFailure };
      try {
        const url = oidc.buildAuthorizationUrl(found.config, {
          redirect_uri: redirectUri(name), scope: found.settings.scope, state: request.state, nonce: request.nonce,
          code_challenge: await oidc.calculatePKCECodeChallenge(request.verifier), code_challenge_method: 'S256',
        });
        return { url: url.toString() };
      } catch {
        // Discovery answered nonsense (no authorization endpoint, or not https): asked again next time.
        discovered.delete(name);
        return { failed: 'unreachable' as UpstreamFailure };
      }
    },

    async finish(name, params, request): Promise<UpstreamResult> {
      let found;
      try {
        found = await configurationOf(name);
      } catch {
        return { ok: false, reason: 'unreachable' };
      }
      if (!found) return { ok: false, reason: 'unreachable' };
      const { config } = found;
      const current = new URL(redirectUri(name));
      for (const [k, v] of Object.entries(params)) current.searchParams.set(k, v);
      // The response first, on its own: an error from the provider, a wrong issuer or no code are
      // told apart from a code the token endpoint refuses or an ID token that does not check.
      try {
        validateAuthResponse(config.serverMetadata(), config.clientMetadata(), current, request.state);
      } catch (err) {
        if (err instanceof AuthorizationResponseError) return { ok: false, reason: 'error_response', detail: (err.cause.get('error') ?? '').slice(0, 64) };
        return { ok: false, reason: 'bad_response', detail: err instanceof Error ? err.message.slice(0, 200) : undefined };
      }
      try {
        const tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: request.verifier, expectedNonce: request.nonce, expectedState: request.state, idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims || subjectProblem(claims.sub)) return { ok: false, reason: 'bad_id_token', detail: 'the sub claim is not 1 to 255 characters without control characters' };
        return { ok: true, subject: claims.sub as string, claims: { ...claims } };
      } catch (err) {
        if (err instanceof oidc.ResponseBodyError) return { ok: false, reason: 'code_refused', detail: err.error.slice(0, 64) };
        if (noAnswer(err)) return { ok: false, reason: 'unreachable' };
        return { ok: false, reason: 'bad_id_token', detail: err instanceof Error ? err.message.slice(0, 200) : undefined };
      }
    },
  };
}
