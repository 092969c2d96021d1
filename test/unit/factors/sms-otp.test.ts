import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.ts';
import { smsOtpFactor } from '../../../src/login/factors/sms-otp/factor.ts';
import type { Form } from '../../../src/login/factor.ts';
import type { Account } from '../../../src/login/ports.ts';
import { SmsDeliveryError, SmsDestinationError } from '../../../src/sms/port.ts';
import { anAccount, factorContext, smsCodeFakes, testOtpKey } from '../../support/login-fakes.ts';

const PHONE = '+447400123456';
const MASKED = '+44 •••• ••34 56';
const OTHER_PHONE = '+447400654321';

function setup(options: { account?: Partial<Account>; settings?: Partial<Config['smsOtp']>; velocity?: { ipSendLimit?: number; globalSendLimit?: number } } = {}) {
  const fakes = smsCodeFakes({ account: anAccount({ phone: PHONE, ...options.account }), codes: [111111, 222222, 333333, 444444], settings: options.settings, velocity: options.velocity });
  const factor = smsOtpFactor({
    accounts: fakes.accounts.store, otp: fakes.otp.store, sending: fakes.sending, audit: fakes.audit, clock: fakes.clock, otpHmacKey: testOtpKey,
    settings: { smsOtp: fakes.settings },
  });
  // Each request reads the account as it then is (the lock is on its row).
  const ctx = () => factorContext({ uid: 'login-1', account: fakes.accounts.state.account });
  return { ...fakes, factor, show: () => factor.show(ctx()), submit: (form: Form) => factor.submit(ctx(), form) };
}

describe('the SMS code factor', () => {
  it('sends the first code when its page is first shown, and nothing more on a reload', async () => {
    const t = setup();
    const view = await t.show();
    expect(view).toEqual({
      view: 'factors/sms-otp/code',
      model: { sent: 'sent', destination: MASKED, numeric: true, codeLength: 6, canResend: true, resendWait: 30 },
      message: undefined,
    });
    expect(t.sms.sent).toMatchObject([{ to: PHONE, code: '111111', purpose: 'otp', flowUid: 'login-1' }]);
    await t.show();
    expect(t.sms.attempts).toHaveLength(1);
  });

  it('passes with the right code, with the account it proved, and takes that code once', async () => {
    const t = setup({ account: { failedOtpCount: 2 } });
    await t.show();
    const proved = t.accounts.state.account;
    expect(await t.submit({ action: 'verify', code: ' 111 111 ' })).toEqual({ kind: 'passed', account: proved });
    // A right code starts the count of wrong ones again.
    expect(t.accounts.state.account.failedOtpCount).toBe(0);
    expect(t.events.filter((e) => e.event === 'login.sms_otp')).toMatchObject([{ result: 'success', step: 'sms-otp', accountId: t.accounts.state.account.id, detail: { destination: MASKED } }]);
    expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'CODE_ALREADY_USED' });
  });

  it('asks again after a wrong code, with the tries left for that code, until the code is dead', async () => {
    const t = setup({ settings: { maxAttempts: 2, lockoutThreshold: 10 } });
    await t.show();
    expect(await t.submit({ action: 'verify', code: '' })).toEqual({ kind: 'retry', message: 'CODE_MISSING' });
    expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'CODE_INCORRECT', params: { attempts: 1 } });
    expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'CODE_DEAD' });
    // Past its cap even the right code is no use: only a new code helps.
    expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'CODE_DEAD' });
    expect(t.accounts.state.account.failedOtpCount).toBe(2);
  });

  it('does not say how many tries are left when showAuthFailureReason is off', async () => {
    const t = setup({ settings: { showAuthFailureReason: false } });
    await t.show();
    expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'CODE_INCORRECT_PLAIN' });
  });

  it('ends the login at the first wrong code when retryEnable is off', async () => {
    const t = setup({ settings: { retryEnable: false } });
    await t.show();
    expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'failed', message: 'CODE_REJECTED' });
  });

  it('refuses an expired code, even the right one', async () => {
    const t = setup();
    await t.show();
    t.clock.advance(300);
    expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'CODE_EXPIRED' });
    expect(t.events.at(-1)).toMatchObject({ event: 'login.sms_otp', result: 'failure', reason: 'expired' });
  });

  describe('on a locked account', () => {
    const lockedUntil = new Date(Date.parse('2026-03-01T09:00:00Z') + 10 * 60_000);

    it('sends no SMS and says for how long it is locked', async () => {
      const t = setup({ account: { otpLockedUntil: lockedUntil, failedOtpCount: 3 } });
      expect(await t.show()).toEqual({ view: 'second-factor-unavailable', model: {}, message: { message: 'OTP_LOCKED', params: { minutes: 10 } } });
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 10 } });
      expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 10 } });
      expect(t.sms.attempts).toEqual([]);
      expect(t.smsLog.rows).toEqual([]);
    });

    it('reads as a wrong code when showAuthFailureReason is off', async () => {
      const t = setup({ account: { otpLockedUntil: lockedUntil, failedOtpCount: 3 }, settings: { showAuthFailureReason: false } });
      expect(await t.show()).toEqual({ view: 'second-factor-unavailable', model: {}, message: { message: 'CODE_INCORRECT_PLAIN', params: undefined } });
      expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'CODE_INCORRECT_PLAIN' });
      expect(t.sms.attempts).toEqual([]);
    });

    it('locks with the wrong code that reaches the threshold (counted across logins)', async () => {
      // Two wrong codes in earlier logins; the threshold is 3.
      const t = setup({ account: { failedOtpCount: 2 } });
      await t.show();
      expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 15 } });
      expect(t.accounts.state.account.otpLockedUntil).toEqual(new Date(t.clock.now().getTime() + 900_000));
      expect(t.events.slice(-2)).toMatchObject([
        { event: 'login.sms_otp', result: 'failure', reason: 'wrong_code' },
        { event: 'account.locked', result: 'info', reason: 'otp_failures', step: 'sms-otp' },
      ]);
      // The next request finds the lock: the right code is not even compared.
      t.clock.advance(60);
      expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 14 } });
    });

    it('hides the lock set by a wrong code when showAuthFailureReason is off', async () => {
      const t = setup({ account: { failedOtpCount: 2 }, settings: { showAuthFailureReason: false } });
      await t.show();
      expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'CODE_INCORRECT_PLAIN' });
      expect(t.accounts.state.account.otpLockedUntil).not.toBeNull();
    });

    it('counts afresh once the lock has run out', async () => {
      const t = setup({ account: { failedOtpCount: 3, otpLockedUntil: new Date(Date.parse('2026-03-01T09:00:00Z') - 1000) } });
      await t.show();
      expect(t.sms.sent).toHaveLength(1);
      expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'CODE_INCORRECT', params: { attempts: 4 } });
      expect(t.accounts.state.account).toMatchObject({ failedOtpCount: 1, otpLockedUntil: null });
      expect(await t.submit({ action: 'verify', code: '111111' })).toMatchObject({ kind: 'passed' });
    });
  });

  describe('sending', () => {
    it('sends a new code on resend after the cooldown, which doubles; only the newest code works', async () => {
      const t = setup();
      await t.show();
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_TOO_SOON', params: { seconds: 30 } });
      t.clock.advance(30);
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'CODE_RESENT' });
      expect(t.sms.lastCode(PHONE)).toBe('222222');
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_TOO_SOON', params: { seconds: 60 } });
      expect(await t.submit({ action: 'verify', code: '111111' })).toMatchObject({ kind: 'retry', message: 'CODE_INCORRECT' });
      expect(await t.submit({ action: 'verify', code: '222222' })).toMatchObject({ kind: 'passed' });
      expect(t.events.filter((e) => e.event.startsWith('sms.')).map((e) => e.event)).toEqual(['sms.sent', 'sms.resent']);
    });

    it('sends one SMS for two resends racing in one login', async () => {
      const t = setup();
      await t.show();
      t.clock.advance(30);
      const answers = await Promise.all([t.submit({ action: 'resend' }), t.submit({ action: 'resend' })]);
      expect(answers).toEqual([{ kind: 'retry', message: 'CODE_RESENT' }, { kind: 'retry', message: 'CODE_RESENT' }]);
      expect(t.sms.attempts.map((m) => m.code)).toEqual(['111111', '222222']);
      // The loser's reservation was given back: it costs no budget.
      expect(t.smsLog.rows).toHaveLength(2);
    });

    it('stops at maxResends', async () => {
      const t = setup({ settings: { maxResends: 1 } });
      await t.show();
      t.clock.advance(30);
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'CODE_RESENT' });
      t.clock.advance(3600);
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_LIMIT' });
      expect(t.sms.attempts).toHaveLength(2);
    });

    it('refuses a resend when resendEnable is off', async () => {
      const t = setup({ settings: { resendEnable: false } });
      await t.show();
      t.clock.advance(3600);
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_DISABLED' });
      expect(t.sms.attempts).toHaveLength(1);
    });

    it('sends nothing past the account budget, and says in how many minutes it frees a send', async () => {
      const t = setup({ settings: { userSendLimit: 2 } });
      const at = t.clock.now();
      // Two codes went to this account in another login, 10 and 20 minutes ago.
      for (const minutes of [20, 10]) t.smsLog.earlier({ at: new Date(at.getTime() - minutes * 60_000), accountId: t.accounts.state.account.id, flowUid: 'other-login', ip: '10.0.0.9', destination: MASKED });
      const view = await t.show();
      // The oldest of them leaves the hour's window in 40 minutes.
      expect(view.message).toEqual({ message: 'SEND_LIMIT', params: { minutes: 40 } });
      expect(view.model).toMatchObject({ sent: 'none', destination: MASKED });
      expect(t.sms.attempts).toEqual([]);
      expect(t.events).toMatchObject([{ event: 'sms.blocked', reason: 'user_send_limit' }]);
    });

    it('sends nothing past the address or the global budget, with the message of any other budget', async () => {
      const byIp = setup({ velocity: { ipSendLimit: 1 } });
      byIp.smsLog.earlier({ at: new Date(byIp.clock.now().getTime() - 59 * 60_000), accountId: 'someone-else', flowUid: 'other-login', ip: '127.0.0.1', destination: '-' });
      expect((await byIp.show()).message).toEqual({ message: 'SEND_LIMIT', params: { minutes: 1 } });
      const global = setup({ velocity: { globalSendLimit: 1 } });
      global.smsLog.earlier({ at: new Date(global.clock.now().getTime() - 30 * 60_000), accountId: 'someone-else', flowUid: 'other-login', ip: '10.9.9.9', destination: '-' });
      expect((await global.show()).message).toEqual({ message: 'SEND_LIMIT', params: { minutes: 30 } });
      expect([...byIp.sms.attempts, ...global.sms.attempts]).toEqual([]);
      expect([...byIp.events, ...global.events].map((e) => e.reason)).toEqual(['ip_send_limit', 'global_send_limit']);
    });

    it('says a failed send was not sent, costs nothing, and lets a new code go at once', async () => {
      const t = setup();
      t.sms.failNext(new SmsDeliveryError('gateway answered 503', 503));
      const view = await t.show();
      expect(view.message).toEqual({ message: 'SMS_NOT_SENT' });
      expect(view.model).toMatchObject({ sent: 'failed', canResend: true, resendWait: 0 });
      expect(t.smsLog.rows.map((r) => r.status)).toEqual(['failed']);
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'CODE_RESENT' });
      expect(await t.submit({ action: 'verify', code: '222222' })).toMatchObject({ kind: 'passed' });
    });

    it('says a send may still arrive when the gateway timed out, and keeps the cooldown', async () => {
      const t = setup();
      t.sms.failNext(new SmsDeliveryError('timed out', undefined, { mayHaveSent: true }));
      const view = await t.show();
      expect(view.message).toEqual({ message: 'SMS_UNCERTAIN' });
      expect(view.model).toMatchObject({ sent: 'uncertain', resendWait: 30 });
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_TOO_SOON', params: { seconds: 30 } });
    });

    it('says the number is refused, gives the send back, and offers no resend', async () => {
      const t = setup();
      t.sms.failNext(new SmsDestinationError('country not allowed'));
      const view = await t.show();
      expect(view.message).toEqual({ message: 'SMS_DESTINATION_REFUSED' });
      expect(view.model).toMatchObject({ sent: 'refused', canResend: false });
      expect(t.smsLog.rows).toEqual([]);
      expect(t.events.at(-1)).toMatchObject({ event: 'sms.failed', reason: 'destination_refused' });
    });

    it('keeps the code sent before working when a resend fails', async () => {
      const t = setup();
      await t.show();
      t.clock.advance(30);
      t.sms.failNext(new SmsDeliveryError('gateway answered 500', 500));
      expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_FAILED' });
      expect(await t.submit({ action: 'verify', code: '111111' })).toMatchObject({ kind: 'passed' });
    });
  });

  it('does not pass with a code that went to another number in this login', async () => {
    const t = setup();
    // Phone capture in this login sent a code to a number the account has not verified.
    await t.sending.sendFirst({ uid: 'login-1', clientId: 'app', ip: '127.0.0.1' }, t.accounts.state.account.id, OTHER_PHONE);
    expect(t.sms.lastCode(OTHER_PHONE)).toBe('111111');
    const view = await t.show();
    expect(view.message).toEqual({ message: 'CODE_DEAD' });
    expect(view.model).toMatchObject({ destination: MASKED, sent: 'none' });
    expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'CODE_DEAD' });
    expect(t.events.some((e) => e.event === 'login.sms_otp' && e.result === 'success')).toBe(false);
  });

  it('does not pass with a code sent for another account', async () => {
    const t = setup();
    await t.sending.sendFirst({ uid: 'login-1', clientId: 'app', ip: '127.0.0.1' }, '00000000-0000-0000-0000-0000000000b2', PHONE);
    expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'CODE_DEAD' });
  });

  it('is unavailable for an account whose number is no longer verified', async () => {
    const t = setup({ account: { phoneVerifiedAt: null } });
    expect(t.factor.enrolled(t.accounts.state.account)).toBe(false);
    expect(await t.show()).toEqual({ view: 'second-factor-unavailable', model: {}, message: { message: 'NO_SECOND_FACTOR' } });
    expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'NO_SECOND_FACTOR' });
    expect(t.sms.attempts).toEqual([]);
  });

  it('records sends, failures and the pass, with neither a code nor the full number', async () => {
    const t = setup({ settings: { lockoutThreshold: 10 } });
    await t.show();
    await t.submit({ action: 'verify', code: '999999' });
    t.clock.advance(30);
    t.sms.failNext(new SmsDeliveryError('gateway answered 500', 500));
    await t.submit({ action: 'resend' });
    t.clock.advance(30);
    await t.submit({ action: 'resend' });
    await t.submit({ action: 'verify', code: '333333' });
    expect(t.events.map((e) => [e.event, e.result])).toEqual([
      ['sms.sent', 'success'], ['login.sms_otp', 'failure'], ['sms.failed', 'failure'], ['sms.resent', 'success'], ['login.sms_otp', 'success'],
    ]);
    const recorded = JSON.stringify(t.events);
    for (const secret of ['111111', '222222', '333333', '999999', PHONE, PHONE.slice(1), '7400123456']) expect(recorded).not.toContain(secret);
    expect(recorded).toContain('34 56');
  });
});
