import * as oidc from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock, wrongCode } from '../support/sms.ts';

const PHONE = '+447400123456';

describe('the SMS code step', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { smsOtp: { lockoutThreshold: 100, userSendLimit: 100 } } });
    await t.addUser('ivy', 'ivys-long-password', PHONE);
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  beforeEach(() => { sms.failing = false; sms.uncertain = false; });
  afterAll(() => t.close());

  it('sends a code after the password and logs in with it: amr pwd+sms+mfa, acr mfa', async () => {
    const before = sms.sent.length;
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const page = pageOf(next);
    expect(sms.sent.length).toBe(before + 1);
    const message = sms.sent.at(-1)!;
    expect(message.to).toBe(PHONE);
    const code = sms.lastCode(PHONE);
    expect(code).toMatch(/^\d{6}$/);
    expect(message.text).toBe(`Your Keystep code is ${code}. It expires in 5 minutes. Don't share it.\n\n@${new URL(t.issuer).host} #${code}`);

    expect(page.html).toContain('+44 •••• ••34 56');
    expect(page.html).not.toContain('7400123456');
    expect(page.html).toContain('autocomplete="one-time-code"');
    expect(page.html).toContain('inputmode="numeric"');
    expect(page.html).not.toContain('type="password"');
    expect(page.html).toContain('Send a new code');
    expect(page.html).toContain('Use a backup code instead');

    const done = await submitStep(attempt.browser, page, 'sms-otp', { code });
    const tokens = await exchange(rp, attempt, callbackOf(done));
    const claims = tokens.claims()!;
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(claims.acr).toBe('urn:keystep:acr:mfa');
    const events = await t.database.db.selectFrom('auth_events').select(['event', 'result', 'detail']).where('flow_uid', '=', new URL(page.url).pathname.split('/')[2]!).orderBy('id').execute();
    expect(events.map((e) => `${e.event}:${e.result}`)).toEqual(['login.password:success', 'sms.sent:success', 'login.sms_otp:success', 'login.completed:success']);
    expect(JSON.stringify(events)).not.toContain(code);
    expect(JSON.stringify(events)).not.toContain('7400123456');
  });

  it('sends nothing on reload', async () => {
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const count = sms.sent.length;
    const reload = pageOf(await attempt.browser.visit(pageOf(next).url));
    expect(reload.html).toContain('autocomplete="one-time-code"');
    expect(sms.sent.length).toBe(count);
  });

  it('retries a wrong code with the attempts left, then kills the code after maxAttempts', async () => {
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    let page = pageOf(next);
    const code = sms.lastCode(PHONE);
    const wrong = wrongCode(code);
    for (let left = 4; left >= 1; left--) {
      page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { code: wrong }));
      expect(alertText(page.html)).toBe(`That code is not right. ${left} ${left === 1 ? 'try' : 'tries'} left for this code.`);
    }
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { code: wrong }));
    expect(alertText(page.html)).toMatch(/can no longer be used.*new code/);
    // The right code is refused too: the code is dead.
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { code }));
    expect(alertText(page.html)).toMatch(/can no longer be used/);
    // A new code works.
    clock.advance(31);
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(page.html)).toMatch(/We sent a new code/);
    await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, page, 'sms-otp', { code: sms.lastCode(PHONE) })));
  });

  it('refuses an expired code', async () => {
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const code = sms.lastCode(PHONE);
    clock.advance(301);
    const page = pageOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code }));
    expect(alertText(page.html)).toBe('That code has expired. Ask for a new code.');
  });

  it('binds a code to its login: another login\'s code is refused', async () => {
    await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const firstCode = sms.lastCode(PHONE);
    const second = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    expect(sms.lastCode(PHONE)).not.toBe(firstCode);
    const page = pageOf(await submitStep(second.attempt.browser, pageOf(second.next), 'sms-otp', { code: firstCode }));
    expect(alertText(page.html)).toMatch(/not right/);
  });

  it('accepts the code once when two correct submissions race, and the login still finishes', async () => {
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const page = pageOf(next);
    const uid = new URL(page.url).pathname.split('/')[2]!;
    const code = sms.lastCode(PHONE);
    const posts = await Promise.all([1, 2].map(() => submitStep(attempt.browser, page, 'sms-otp', { code })));
    const successes = await t.database.db.selectFrom('auth_events').select('id')
      .where('flow_uid', '=', uid).where('event', '=', 'login.sms_otp').where('result', '=', 'success').execute();
    expect(successes).toHaveLength(1);
    // A browser shows whichever answer comes last; either one leads back to the app, so a double
    // click never strands the user (the losing request finishes the already-passed login).
    const callbacks = posts.flatMap((p) => (p.callback ? [p.callback] : []));
    expect(callbacks.length).toBeGreaterThanOrEqual(1);
    const results = await Promise.allSettled(callbacks.map((c) => exchange(rp, attempt, c)));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
  });

  it('tells the user when the SMS could not be sent, and never lets the login through', async () => {
    sms.failing = true;
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const page = pageOf(next);
    expect(alertText(page.html)).toBe('We could not send the code. Ask for a new code, or use a backup code.');
    expect(page.html).toContain('Send a new code');
    expect(page.html).toContain('Use a backup code instead');
    // Guessing does not help.
    const guess = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { code: '123456' }));
    expect(guess.html).toContain('autocomplete="one-time-code"');
    // The gateway recovers: a resend (no cooldown after a failure) gets through.
    sms.failing = false;
    const resent = pageOf(await submitStep(attempt.browser, guess, 'sms-otp', { action: 'resend' }));
    expect(alertText(resent.html)).toMatch(/We sent a new code/);
    await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, resent, 'sms-otp', { code: sms.lastCode(PHONE) })));
    const failures = await t.database.db.selectFrom('sms_messages').select(['status', 'destination']).where('status', '=', 'failed').execute();
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]!.destination).toBe('+44 •••• ••34 56');
  });

  it('keeps the code that arrived working when a new one cannot be sent', async () => {
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const arrived = sms.lastCode(PHONE);
    clock.advance(30);
    sms.failing = true;
    const failed = pageOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { action: 'resend' }));
    expect(alertText(failed.html)).toBe('We could not send a new code. The code we sent before still works; or ask again, or use a backup code.');
    sms.failing = false;
    const tokens = await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, failed, 'sms-otp', { code: arrived })));
    expect(tokens.claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('counts the guesses made while a new code failed to go out on the code that comes back', async () => {
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const page = pageOf(next);
    const arrived = sms.lastCode(PHONE);
    await submitStep(attempt.browser, page, 'sms-otp', { code: wrongCode(arrived) });
    clock.advance(30);
    sms.failing = true;
    const held = sms.gate.holdNext();
    const resend = submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' });
    await held.reached;
    // Two guesses while the new code is on its way (and fails): they count on the code that comes back.
    for (let i = 0; i < 2; i++) await submitStep(attempt.browser, page, 'sms-otp', { code: wrongCode(arrived) });
    held.release();
    await resend;
    sms.failing = false;
    const fourth = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { code: wrongCode(arrived) }));
    expect(alertText(fourth.html)).toBe('That code is not right. 1 try left for this code.');
  });

  it('keeps the cooldown when a send may have gone out (a timeout), and the code that arrived works', async () => {
    sms.uncertain = true;
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const page = pageOf(next);
    expect(alertText(page.html)).toMatch(/could not confirm that the code was sent/);
    sms.uncertain = false;
    const early = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(early.html)).toMatch(/You can ask for a new code in \d+ seconds/);
    await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, early, 'sms-otp', { code: sms.lastCode(PHONE) })));
  });

  it('cannot be skipped by opening the resume URL after the password', async () => {
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const uid = new URL(pageOf(next).url).pathname.split('/')[2];
    const resume = await attempt.browser.visit(new URL(`/auth/${uid}`, t.issuer).toString());
    expect(resume.callback).toBeUndefined();
    expect(pageOf(resume).html).toContain('name="password"');
  });

  it('gives userinfo for a two-factor login', async () => {
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password', { scope: 'openid profile phone' });
    const tokens = await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: sms.lastCode(PHONE) })));
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
    expect(info).toMatchObject({ preferred_username: 'ivy', phone_number: PHONE, phone_number_verified: true });
  });

  it('never logs a code', async () => {
    // Lines of its own, of codes sent, failed and sent again, and of the full number: a run of this test alone inspects something.
    const from = t.logLines.length;
    const sentBefore = sms.sent.length;
    const { attempt, next } = await toSecondStep(rp, 'ivy', 'ivys-long-password');
    const wrong = await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: wrongCode(sms.lastCode(PHONE)) });
    clock.advance(3600);
    sms.failing = true;
    const notSent = await submitStep(attempt.browser, pageOf(wrong), 'sms-otp', { action: 'resend' });
    sms.failing = false;
    const resent = await submitStep(attempt.browser, pageOf(notSent), 'sms-otp', { action: 'resend' });
    callbackOf(await submitStep(attempt.browser, pageOf(resent), 'sms-otp', { code: sms.lastCode(PHONE) }));

    const codes = sms.sent.slice(sentBefore).map((m) => /#(\w+)\s*$/.exec(m.text)![1]!);
    expect(codes).toHaveLength(2);
    const lines = t.logLines.slice(from);
    // One line for each send and for the one that failed, naming the number as masked: there is something to inspect.
    expect(lines.filter((l) => l.includes('"msg":"sms sent"'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('"msg":"sms not sent"'))).toHaveLength(1);
    const all = lines.join('\n');
    expect(all).toContain('+44 •••• ••34 56');
    for (const code of codes) expect(all).not.toContain(code);
    expect(all).not.toContain('7400123456');
  });
});

describe('the SMS code step without retry', () => {
  let t: TestApp;
  const sms = new RecordingSender();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, overrides: { smsOtp: { retryEnable: false } } });
    await t.addUser('jay', 'jays-long-password', PHONE);
  });
  afterAll(() => t.close());

  it('ends the login with access_denied at the first wrong code, on the server', async () => {
    const rp = await relyingParty(t, await t.addClient('web-app'));
    const { attempt, next } = await toSecondStep(rp, 'jay', 'jays-long-password');
    const page = pageOf(next);
    const code = sms.lastCode(PHONE);
    const result = await submitStep(attempt.browser, page, 'sms-otp', { code: wrongCode(code) });
    const callback = new URL(callbackOf(result));
    expect(callback.searchParams.get('error')).toBe('access_denied');
    // The same page posted again (a second try) finds no login to continue.
    const again = await submitStep(attempt.browser, page, 'sms-otp', { code });
    expect(again.postStatus).toBe(400);
  });
});
