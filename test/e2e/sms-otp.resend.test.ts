import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitPassword, submitStep, startLogin, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock, wrongCode } from '../support/sms.ts';

describe('resending codes', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { smsOtp: { maxResends: 2, resendCooldownSeconds: 30, userSendLimit: 5 } } });
    await t.addUser('kim', 'kims-long-password', '+447400111111');
    await t.addUser('lou', 'lous-long-password', '+447400222222');
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  it('refuses inside the cooldown with the wait, doubles it, and stops past maxResends', async () => {
    const { attempt, next } = await toSecondStep(rp, 'kim', 'kims-long-password');
    let page = pageOf(next);
    expect(page.html).toContain('You can ask for a new code in 30 seconds.');
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(page.html)).toBe('You can ask for a new code in 30 seconds.');
    clock.advance(10);
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(page.html)).toBe('You can ask for a new code in 20 seconds.');
    expect(sms.to('+447400111111')).toHaveLength(1);

    clock.advance(20);
    const firstCode = sms.lastCode('+447400111111');
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(page.html)).toMatch(/We sent a new code/);
    expect(sms.to('+447400111111')).toHaveLength(2);
    // The second cooldown is twice the first.
    clock.advance(59);
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(page.html)).toBe('You can ask for a new code in 1 seconds.');
    clock.advance(1);
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(sms.to('+447400111111')).toHaveLength(3);
    // Only the newest code works.
    expect(sms.lastCode('+447400111111')).not.toBe(firstCode);
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { code: firstCode }));
    expect(alertText(page.html)).toMatch(/not right/);
    // maxResends (2) used: no button, and the server refuses as well, however long one waits.
    expect(page.html).not.toContain('Send a new code');
    clock.advance(3600);
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(page.html)).toMatch(/No more codes can be sent/);
    expect(sms.to('+447400111111')).toHaveLength(3);
  });

  it('stops sending past userSendLimit for the account, across logins', async () => {
    clock.advance(7200);
    for (let i = 0; i < 5; i++) await toSecondStep(rp, 'lou', 'lous-long-password');
    expect(sms.to('+447400222222')).toHaveLength(5);
    const { next } = await toSecondStep(rp, 'lou', 'lous-long-password');
    expect(alertText(pageOf(next).html)).toMatch(/No more codes can be sent for now/);
    expect(sms.to('+447400222222')).toHaveLength(5);
    const blocked = await t.database.db.selectFrom('auth_events').select('reason').where('event', '=', 'sms.blocked').execute();
    expect(blocked.map((b) => b.reason)).toContain('user_send_limit');
    // The window passes.
    clock.advance(3601);
    await toSecondStep(rp, 'lou', 'lous-long-password');
    expect(sms.to('+447400222222')).toHaveLength(6);
  });
});

describe('velocity limits beyond the account', () => {
  it('caps SMS per client address and for everyone, before the gateway', async () => {
    const sms = new RecordingSender();
    const t = await startTestApp({ smsSender: sms, overrides: { sms: { ipSendLimit: 2, globalSendLimit: 3 } } });
    try {
      for (const name of ['oak', 'elm', 'ash']) await t.addUser(name, `${name}s-long-password`, `+4474003${name === 'oak' ? '1' : name === 'elm' ? '2' : '3'}0000`);
      const rp = await relyingParty(t, await t.addClient('web-app'));
      await toSecondStep(rp, 'oak', 'oaks-long-password');
      await toSecondStep(rp, 'elm', 'elms-long-password');
      const third = await toSecondStep(rp, 'ash', 'ashs-long-password');
      expect(alertText(pageOf(third.next).html)).toMatch(/No more codes can be sent for now/);
      expect(sms.sent).toHaveLength(2);
      // Another address gets through until everyone's budget is spent.
      await t.database.db.updateTable('sms_messages').set({ ip: '203.0.113.9' }).execute();
      await toSecondStep(rp, 'ash', 'ashs-long-password');
      expect(sms.sent).toHaveLength(3);
      await t.database.db.updateTable('sms_messages').set({ ip: '203.0.113.9' }).execute();
      const fourth = await toSecondStep(rp, 'oak', 'oaks-long-password');
      expect(alertText(pageOf(fourth.next).html)).toMatch(/No more codes can be sent for now/);
      expect(sms.sent).toHaveLength(3);
      const reasons = (await t.database.db.selectFrom('auth_events').select('reason').where('event', '=', 'sms.blocked').execute()).map((r) => r.reason);
      expect(reasons).toEqual(['ip_send_limit', 'global_send_limit']);
    } finally {
      await t.close();
    }
  });
});

describe('locking after wrong codes', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();
  const PHONE = '+447400333333';

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, clock, overrides: { smsOtp: { lockoutThreshold: 4, maxAttempts: 3, lockoutSeconds: 900, resendCooldownSeconds: 0, userSendLimit: 100 } } });
    await t.addUser('max', 'maxs-long-password', PHONE);
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  it('counts wrong codes across logins and resends, locks, sends nothing while locked, and unlocks', async () => {
    const first = await toSecondStep(rp, 'max', 'maxs-long-password');
    let page = pageOf(await submitStep(first.attempt.browser, pageOf(first.next), 'sms-otp', { code: wrongCode(sms.lastCode(PHONE)) }));
    page = pageOf(await submitStep(first.attempt.browser, page, 'sms-otp', { action: 'resend' }));
    page = pageOf(await submitStep(first.attempt.browser, page, 'sms-otp', { code: wrongCode(sms.lastCode(PHONE)) }));
    expect(alertText(page.html)).toMatch(/2 tries left/); // a resend starts the code's own count afresh...

    const second = await toSecondStep(rp, 'max', 'maxs-long-password');
    page = pageOf(await submitStep(second.attempt.browser, pageOf(second.next), 'sms-otp', { code: wrongCode(sms.lastCode(PHONE)) }));
    expect(alertText(page.html)).toMatch(/2 tries left/);
    // ...but not the account's: this is the fourth wrong code in a row.
    page = pageOf(await submitStep(second.attempt.browser, page, 'sms-otp', { code: wrongCode(sms.lastCode(PHONE)) }));
    expect(alertText(page.html)).toBe('This account is locked after too many wrong codes. Try again in 15 minutes or ask your administrator to unlock it.');
    // Even the right code is refused while locked.
    page = pageOf(await submitStep(second.attempt.browser, page, 'sms-otp', { code: sms.lastCode(PHONE) }));
    expect(alertText(page.html)).toMatch(/locked/);

    const sentBefore = sms.to(PHONE).length;
    const third = await toSecondStep(rp, 'max', 'maxs-long-password');
    expect(alertText(pageOf(third.next).html)).toMatch(/locked/);
    expect(sms.to(PHONE).length).toBe(sentBefore);
    expect(await t.database.db.selectFrom('auth_events').select('event').where('event', '=', 'account.locked').execute()).toHaveLength(1);

    // The lock ends by itself.
    clock.advance(901);
    const fourth = await toSecondStep(rp, 'max', 'maxs-long-password');
    await exchange(rp, fourth.attempt, callbackOf(await submitStep(fourth.attempt.browser, pageOf(fourth.next), 'sms-otp', { code: sms.lastCode(PHONE) })));

    // And `keystep user unlock` ends it early (the command calls this).
    const accounts = accountRepository(t.database.db);
    const id = (await accounts.findByUsername('max'))!.id;
    await accounts.reserveOtpAttempt(id, clock.now(), 1, new Date(clock.now().getTime() + 900_000));
    const fifth = await toSecondStep(rp, 'max', 'maxs-long-password');
    expect(alertText(pageOf(fifth.next).html)).toMatch(/locked/);
    await accounts.clearOtpFailures(id); // what `keystep user unlock` does for codes
    const sixth = await toSecondStep(rp, 'max', 'maxs-long-password');
    await exchange(rp, sixth.attempt, callbackOf(await submitStep(sixth.attempt.browser, pageOf(sixth.next), 'sms-otp', { code: sms.lastCode(PHONE) })));
  });

  it('hides the lock and the attempts left when showAuthFailureReason is off', async () => {
    const quiet = await startTestApp({ smsSender: sms, clock, overrides: { smsOtp: { showAuthFailureReason: false, userSendLimit: 100 } } });
    try {
      await quiet.addUser('ned', 'neds-long-password', '+447400444444');
      const quietRp = await relyingParty(quiet, await quiet.addClient('web-app'));
      const attempt = await startLogin(quietRp);
      const page = pageOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'ned', 'neds-long-password'));
      const wrong = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { code: wrongCode(sms.lastCode('+447400444444')) }));
      expect(alertText(wrong.html)).toBe('That code is not right.');
    } finally {
      await quiet.close();
    }
  });
});
