import { sql } from 'kysely';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import type { Browser } from '../support/browser.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { callbackOf, continueSession, exchange, pageOf, relyingParty, startLogin, submitPassword, submitStep, type LoginAttempt, type RelyingParty } from '../support/rp.ts';

export const SAM = { username: 'sam', password: 'sams-long-password', phone: '+447400151515' };
/** Exempt from the SMS code: signs in with the password alone unless a request asks for more. */
export const PAT = { username: 'pat', password: 'pats-long-password', phone: '+447400161616' };

export interface Conformance {
  t: TestApp;
  gateway: FakeGateway;
  rp: RelyingParty;
  clientSecret: string;
  samId: string;
  patId: string;
  close(): Promise<void>;
}

/**
 * Keystep as it runs in production, SMS through the HTTP gateway (a fake Twilio on loopback), one
 * confidential client, and openid-client as that client.
 */
export async function startConformance(): Promise<Conformance> {
  const gateway = await FakeGateway.start();
  const t = await startTestApp({
    overrides: {
      // Every check signs in again with the SMS code: more than an hour's budget of one account.
      smsOtp: { enableByUserClaim: true, userSendLimit: 1000 },
      sms: { sender: 'http', gateway: { preset: 'twilio', accountSid: 'AC99', authToken: 'gateway-token-99', from: '+15005550006', url: `${gateway.origin}/2010-04-01/Accounts/AC99/Messages.json` } },
    },
  });
  const samId = await t.addUser(SAM.username, SAM.password, SAM.phone);
  const patId = await t.addUser(PAT.username, PAT.password, PAT.phone);
  await accountRepository(t.database.db).setSmsOtpExempt(patId, true);
  const client = await t.addClient('conformance-rp');
  const rp = await relyingParty(t, client);
  return {
    t, gateway, rp, clientSecret: client.clientSecret!, samId, patId,
    async close() {
      await t.close();
      await gateway.stop();
    },
  };
}

/** The password, then the code the gateway received, as the user types them. */
export async function signIn(c: Conformance, attempt: LoginAttempt, user = SAM): Promise<string> {
  // A step-up over a session with a recent password continues it with the code only.
  const first = pageOf(attempt.visit);
  const afterPassword = first.html.includes('name="step" value="session"')
    ? await continueSession(attempt.browser, first)
    : await submitPassword(attempt.browser, first, user.username, user.password);
  if (afterPassword.callback) return afterPassword.callback;
  const codePage = pageOf(afterPassword);
  if (!codePage.html.includes('autocomplete="one-time-code"')) throw new Error(`expected the code page, got: ${codePage.html.slice(0, 300)}`);
  return callbackOf(await submitStep(attempt.browser, codePage, 'sms-otp', { code: c.gateway.lastCode(user.phone) }));
}

/** A whole login (authorization request, password, SMS code, token exchange). */
export async function login(c: Conformance, params: Record<string, string> = {}, options: { browser?: Browser; user?: typeof SAM } = {}) {
  const attempt = await startLogin(c.rp, params, options.browser);
  const callback = await signIn(c, attempt, options.user);
  const tokens = await exchange(c.rp, attempt, callback);
  return { attempt, callback, tokens, claims: tokens.claims()! };
}

/**
 * Moves the sign-in time of every session back. The provider reads the time from the system clock,
 * so a session "older than max_age" is made by ageing its stored sign-in instead of waiting.
 */
export async function ageSessions(t: TestApp, seconds: number): Promise<void> {
  await sql`update oidc_payloads
    set payload = jsonb_set(payload::jsonb, '{loginTs}', to_jsonb((payload->>'loginTs')::bigint - ${seconds}))::json
    where model = 'Session' and payload->>'loginTs' is not null`.execute(t.database.db);
}

/** The error the provider sent back to the redirect URI. */
export function callbackError(callback: string): { error: string | null; description: string | null; state: string | null } {
  const params = new URL(callback).searchParams;
  return { error: params.get('error'), description: params.get('error_description'), state: params.get('state') };
}

