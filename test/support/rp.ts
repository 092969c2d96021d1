import * as oidc from 'openid-client';
import { expect } from 'vitest';
import { Browser, formAction, hiddenValue, type Page, type Visit } from './browser.ts';
import type { TestApp } from './app.ts';

/**
 * What openid-client throws when Keystep refuses an access token at userinfo: 401 with the bearer
 * challenge `invalid_token` (RFC 6750), not any other failure.
 */
export const TOKEN_REFUSED = {
  name: 'WWWAuthenticateChallengeError',
  status: 401,
  cause: [{ scheme: 'bearer', parameters: expect.objectContaining({ error: 'invalid_token' }) }],
};

export interface RelyingParty {
  config: oidc.Configuration;
  redirectUri: string;
}

/** openid-client, as any app would use it, pointed at the test Keystep. */
export async function relyingParty(app: Pick<TestApp, 'issuer'>, client: { clientId: string; clientSecret?: string; redirectUri: string }): Promise<RelyingParty> {
  const config = await oidc.discovery(
    new URL(app.issuer),
    client.clientId,
    client.clientSecret,
    client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
  return { config, redirectUri: client.redirectUri };
}

export interface LoginAttempt {
  browser: Browser;
  verifier: string;
  nonce: string;
  state: string;
  visit: Visit;
}

export interface AuthorizationRequest {
  url: URL;
  verifier: string;
  nonce: string;
  state: string;
}

/** An authorization request with PKCE, nonce and state, as the app would send the user. */
export async function authorizationRequest(rp: RelyingParty, params: Record<string, string> = {}, without: string[] = []): Promise<AuthorizationRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...params,
  });
  for (const name of without) url.searchParams.delete(name);
  return { url, verifier, nonce: params.nonce ?? nonce, state: params.state ?? state };
}

/** Sends the user to Keystep with the request; `without` takes parameters out (for requests an app would not send). */
export async function startLogin(rp: RelyingParty, params: Record<string, string> = {}, browser = new Browser(rp.redirectUri), without: string[] = []): Promise<LoginAttempt> {
  const { url, verifier, nonce, state } = await authorizationRequest(rp, params, without);
  return { browser, verifier, nonce, state, visit: await browser.visit(url.toString()) };
}

export function pageOf(visit: Visit): Page {
  if (!visit.page) throw new Error(`expected a page, got a redirect to ${visit.callback}`);
  return visit.page;
}

export function callbackOf(visit: Visit): string {
  if (visit.callback === undefined) throw new Error(`expected the callback, got a page (${visit.page.status}): ${visit.page.html.slice(0, 500)}`);
  return visit.callback;
}

export async function submitPassword(browser: Browser, page: Page, username: string, password: string): Promise<Visit & { postStatus: number }> {
  return browser.submit(new URL(formAction(page.html), page.url).toString(), {
    _csrf: hiddenValue(page.html, '_csrf'),
    step: 'password',
    username,
    password,
  });
}

/** The token request for the authorization response: the callback URL, or the request (form_post) that reached the app. */
export async function exchange(rp: RelyingParty, attempt: Omit<AuthorizationRequest, 'url'>, callback: string | Request) {
  return oidc.authorizationCodeGrant(rp.config, typeof callback === 'string' ? new URL(callback) : callback, {
    pkceCodeVerifier: attempt.verifier,
    expectedNonce: attempt.nonce,
    expectedState: attempt.state,
    idTokenExpected: true,
  });
}

/** A whole password login from authorization request to tokens. */
export async function passwordLogin(rp: RelyingParty, username: string, password: string, params: Record<string, string> = {}) {
  const attempt = await startLogin(rp, params);
  const result = await submitPassword(attempt.browser, pageOf(attempt.visit), username, password);
  const tokens = await exchange(rp, attempt, callbackOf(result));
  return { attempt, tokens };
}

/** Submits a second-factor form: a code, or a button (action) such as resend or backup. */
export async function submitStep(browser: Browser, page: Page, step: string, fields: Record<string, string>): Promise<Visit & { postStatus: number }> {
  return browser.submit(new URL(`/interaction/${new URL(page.url).pathname.split('/')[2]}`, page.url).toString(), {
    _csrf: hiddenValue(page.html, '_csrf'),
    step,
    ...fields,
  });
}

/** Authorization request and password: returns the page that follows (the code page, usually). */
/** A step-up page ("continue as …"): continues with the second factor only, or signs in afresh. */
export async function continueSession(browser: Browser, page: Page, action: 'continue' | 'other' = 'continue'): Promise<Visit & { postStatus: number }> {
  return submitStep(browser, page, 'session', { action });
}

export async function toSecondStep(rp: RelyingParty, username: string, password: string, params: Record<string, string> = {}) {
  const attempt = await startLogin(rp, params);
  const next = await submitPassword(attempt.browser, pageOf(attempt.visit), username, password);
  return { attempt, next };
}

/** A whole two-factor login with offline access (a refresh token), the code read from `sms`. */
export async function offlineSignIn(rp: RelyingParty, sms: { lastCode(number: string): string }, username: string, password: string, phone: string) {
  const { attempt, next } = await toSecondStep(rp, username, password, { scope: 'openid offline_access', prompt: 'consent' });
  const tokens = await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: sms.lastCode(phone) })));
  return { browser: attempt.browser, tokens };
}

/** The error of a `prompt=none` request in this browser (undefined: it was signed in silently). */
export async function silentSignIn(rp: RelyingParty, browser: Browser): Promise<string | undefined> {
  const attempt = await startLogin(rp, { prompt: 'none' }, browser);
  return new URL(callbackOf(attempt.visit)).searchParams.get('error') ?? undefined;
}
