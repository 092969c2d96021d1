import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { callbackOf, continueSession, exchange, pageOf, relyingParty, startLogin, submitPassword, submitStep, toSecondStep } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';

const sms = new RecordingSender();

async function claimsAfterPassword(t: TestApp, clientId: string, username: string, params: Record<string, string> = {}) {
  const rp = await relyingParty(t, { clientId, clientSecret: `${clientId}-secret-0123456789abcdef`, redirectUri: 'http://127.0.0.1:9/callback' });
  const { attempt, next } = await toSecondStep(rp, username, `${username}s-long-password`, params);
  return { rp, attempt, next };
}

describe('when the second factor is mandatory (the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, overrides: { smsOtp: { userSendLimit: 100, captureAndUpdateMobileNumber: false } } });
    await t.addUser('rae', 'raes-long-password');
    await t.addUser('ray', 'rays-long-password');
    await t.addUser('sam', 'sams-long-password', '+447400777777');
    await t.addClient('default-app');
    await t.addClient('relaxed-app', { mfa: 'optional' });
  });
  afterAll(() => t.close());

  it('stops a user with no number at a clear page when capture is off, without skipping the factor', async () => {
    const { next } = await claimsAfterPassword(t, 'default-app', 'rae');
    const page = pageOf(next);
    expect(alertText(page.html)).toBe('Your account has no mobile number for the sign-in code. Ask your administrator to add one, or use a backup code.');
    expect(page.html).toContain('Cancel and return to the app');
  });

  it('lets a client relax it: no number means a password-only login that says so', async () => {
    const { rp, attempt, next } = await claimsAfterPassword(t, 'relaxed-app', 'rae');
    const claims = (await exchange(rp, attempt, callbackOf(next))).claims()!;
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe('urn:keystep:acr:pwd');
    // A user with a number still gets the code on the relaxed client.
    const withPhone = await claimsAfterPassword(t, 'relaxed-app', 'sam');
    expect(pageOf(withPhone.next).html).toContain('autocomplete="one-time-code"');
  });

  it('steps up a password-only session when a client that needs the factor asks: the second factor only', async () => {
    const relaxed = await claimsAfterPassword(t, 'relaxed-app', 'rae');
    await exchange(relaxed.rp, relaxed.attempt, callbackOf(relaxed.next));
    // Same browser, a client that follows the mandatory default: the session is not enough, but
    // its password is recent, so only the code is asked for.
    const strict = await relyingParty(t, { clientId: 'default-app', clientSecret: 'default-app-secret-0123456789abcdef', redirectUri: 'http://127.0.0.1:9/callback' });
    const again = await startLogin(strict, {}, relaxed.attempt.browser);
    expect(again.visit.callback).toBeUndefined();
    // Offered to continue as rae; no SMS goes out before the user says so.
    const offer = pageOf(again.visit);
    expect(offer.html).toContain('You are signed in as');
    expect(offer.html).not.toContain('name="password"');
    // This account has no number (and capture is off): the page says so, with no password field.
    const continued = pageOf(await continueSession(again.browser, offer));
    expect(continued.html).not.toContain('name="password"');
    expect(alertText(continued.html)).toMatch(/no mobile number/);
  });

  it('asks for the password again on a step-up once the session\'s sign-in is older than the re-auth window', async () => {
    const relaxed = await claimsAfterPassword(t, 'relaxed-app', 'ray');
    await exchange(relaxed.rp, relaxed.attempt, callbackOf(relaxed.next));
    // The session's sign-in, moved six minutes into the past.
    await sql`update oidc_payloads set payload = jsonb_set(payload::jsonb, '{loginTs}', to_jsonb((payload->>'loginTs')::int - 360))::json
      where model = 'Session' and account_id = (select id::text from accounts where username = 'ray')`.execute(t.database.db);
    const strict = await relyingParty(t, { clientId: 'default-app', clientSecret: 'default-app-secret-0123456789abcdef', redirectUri: 'http://127.0.0.1:9/callback' });
    const again = await startLogin(strict, {}, relaxed.attempt.browser);
    expect(pageOf(again.visit).html).toContain('name="password"');
  });
});

describe('when the second factor is optional', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, overrides: { smsOtp: { mandatory: false, enableByUserClaim: true, userSendLimit: 100, captureAndUpdateMobileNumber: false } } });
    await t.addUser('tia', 'tias-long-password');
    await t.addUser('uma', 'umas-long-password', '+447400888888');
    await t.addUser('vic', 'vics-long-password', '+447400999999');
    await accountRepository(t.database.db).setSmsOtpExempt((await accountRepository(t.database.db).findByUsername('vic'))!.id, true);
    await t.addClient('app');
    await t.addClient('strict-app', { mfa: 'required' });
  });
  afterAll(() => t.close());

  it('logs in a user with no number with the password only', async () => {
    const { rp, attempt, next } = await claimsAfterPassword(t, 'app', 'tia');
    expect((await exchange(rp, attempt, callbackOf(next))).claims()!.amr).toEqual(['pwd']);
  });

  it('still sends the code to a user with a number', async () => {
    const { rp, attempt, next } = await claimsAfterPassword(t, 'app', 'uma');
    const done = await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: sms.lastCode('+447400888888') });
    expect((await exchange(rp, attempt, callbackOf(done))).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('honours the per-account exemption', async () => {
    const before = sms.to('+447400999999').length;
    const { rp, attempt, next } = await claimsAfterPassword(t, 'app', 'vic');
    expect((await exchange(rp, attempt, callbackOf(next))).claims()!.amr).toEqual(['pwd']);
    expect(sms.to('+447400999999').length).toBe(before);
  });

  it('hands a password-only login over for one account only when two passwords race in it', async () => {
    const rp = await relyingParty(t, { clientId: 'app', clientSecret: 'app-secret-0123456789abcdef', redirectUri: 'http://127.0.0.1:9/callback' });
    for (let round = 0; round < 3; round++) {
      const attempt = await startLogin(rp);
      const page = pageOf(attempt.visit);
      const uid = new URL(page.url).pathname.split('/')[2]!;
      const results = await Promise.all([
        submitPassword(attempt.browser, page, 'tia', 'tias-long-password'),
        submitPassword(attempt.browser, page, 'vic', 'vics-long-password'),
      ]);
      // The login moves on for one password only, and is handed over once. The other request finds
      // it moved on: a new start, a page sending the user back to the app, or the page saying the
      // sign-in is being completed elsewhere.
      const won = results.filter((r) => r.callback !== undefined);
      expect(won).toHaveLength(1);
      for (const r of results.filter((x) => x.callback === undefined)) {
        expect(r.page!.status).toBeLessThan(500);
        expect(r.page!.html).toMatch(/type="password"|Go back to the app|being completed in another window/);
      }
      const completed = await t.database.db.selectFrom('auth_events').select('account_id').where('flow_uid', '=', uid).where('event', '=', 'login.completed').execute();
      expect(completed).toHaveLength(1);
      const tokens = await exchange(rp, attempt, callbackOf(won[0]!));
      expect(tokens.claims()!.sub).toBe(completed[0]!.account_id);
    }
  });

  it('lets a client require it, beating the exemption', async () => {
    const { next } = await claimsAfterPassword(t, 'strict-app', 'vic');
    expect(pageOf(next).html).toContain('autocomplete="one-time-code"');
    const noPhone = await claimsAfterPassword(t, 'strict-app', 'tia');
    expect(alertText(pageOf(noPhone.next).html)).toMatch(/no mobile number/);
  });

  it('forces it for acr_values=urn:keystep:acr:mfa, also over a password-only session', async () => {
    const { rp, attempt, next } = await claimsAfterPassword(t, 'app', 'vic');
    expect((await exchange(rp, attempt, callbackOf(next))).claims()!.acr).toBe('urn:keystep:acr:pwd');

    // The session's password is recent: the step-up asks only for the code, once the user says to
    // go on (a navigation alone sends no SMS).
    const sent = sms.to('+447400999999').length;
    const stepUp = await startLogin(rp, { acr_values: 'urn:keystep:acr:mfa' }, attempt.browser);
    expect(sms.to('+447400999999')).toHaveLength(sent);
    const codePage = pageOf(await continueSession(stepUp.browser, pageOf(stepUp.visit)));
    expect(codePage.html).not.toContain('name="password"');
    expect(sms.to('+447400999999')).toHaveLength(sent + 1);
    const done = await submitStep(stepUp.browser, codePage, 'sms-otp', { code: sms.lastCode('+447400999999') });
    const claims = (await exchange(rp, stepUp, callbackOf(done))).claims()!;
    expect(claims.acr).toBe('urn:keystep:acr:mfa');
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    // The session now has the MFA level: no new login for the next such request.
    expect((await startLogin(rp, { acr_values: 'urn:keystep:acr:mfa' }, attempt.browser)).visit.callback).toBeTruthy();
  });

  it('lets someone else at the same browser sign in afresh instead of continuing the session', async () => {
    const { rp, attempt, next } = await claimsAfterPassword(t, 'app', 'tia');
    await exchange(rp, attempt, callbackOf(next));
    const sent = sms.to('+447400888888').length;
    const stepUp = await startLogin(rp, { acr_values: 'urn:keystep:acr:mfa' }, attempt.browser);
    const fresh = pageOf(await continueSession(stepUp.browser, pageOf(stepUp.visit), 'other'));
    expect(fresh.html).toContain('name="password"');
    const codePage = pageOf(await submitPassword(stepUp.browser, fresh, 'uma', 'umas-long-password'));
    const done = await submitStep(stepUp.browser, codePage, 'sms-otp', { code: sms.lastCode('+447400888888') });
    expect(sms.to('+447400888888')).toHaveLength(sent + 1);
    // Another account than the session's: the provider signs tia out first (its sign-out page).
    expect(pageOf(done).html).toContain('/session/end/confirm');
  });

  it('does not continue a session for a request its account needs no second factor for', async () => {
    // vic is exempt; a client that requires the factor gave the session the MFA level.
    const strict = await claimsAfterPassword(t, 'strict-app', 'vic');
    await exchange(strict.rp, strict.attempt, callbackOf(await submitStep(strict.attempt.browser, pageOf(strict.next), 'sms-otp', { code: sms.lastCode('+447400999999') })));
    // An essential acr the session exceeds asks for a login, but not a step-up: nothing is
    // finished without a factor typed, the password is asked for.
    const rp = await relyingParty(t, { clientId: 'app', clientSecret: 'app-secret-0123456789abcdef', redirectUri: 'http://127.0.0.1:9/callback' });
    const claims = JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:keystep:acr:pwd' } } });
    const again = await startLogin(rp, { claims }, strict.attempt.browser);
    expect(again.visit.callback).toBeUndefined();
    expect(pageOf(again.visit).html).toContain('name="password"');
    expect(pageOf(again.visit).html).not.toContain('You are signed in as');
  });
});
