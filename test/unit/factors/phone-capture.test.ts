import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.ts';
import { phoneCaptureFactor } from '../../../src/login/factors/phone-capture/factor.ts';
import type { Factor, Form } from '../../../src/login/factor.ts';
import type { Account } from '../../../src/login/ports.ts';
import { SmsDeliveryError, SmsDestinationError } from '../../../src/sms/port.ts';
import { anAccount, factorContext, smsCodeFakes, testOtpKey } from '../../support/login-fakes.ts';

type Slot = { pendingPhone: string };

const TYPED = '07400 123456';
const PHONE = '+447400123456';
const MASKED = '+44 •••• ••34 56';
const SECOND = '+447400654321';
const START = Date.parse('2026-03-01T09:00:00Z');

function setup(options: { account?: Partial<Account>; others?: Account[]; settings?: Partial<Config['smsOtp']>; allowed?: (e164: string) => boolean } = {}) {
  const fakes = smsCodeFakes({ account: anAccount({ phone: null, phoneVerifiedAt: null, ...options.account }), others: options.others, codes: [111111, 222222, 333333], settings: options.settings });
  const factor = phoneCaptureFactor({
    accounts: fakes.accounts.store, otp: fakes.otp.store, sending: fakes.sending, audit: fakes.audit, clock: fakes.clock, otpHmacKey: testOtpKey,
    settings: { smsOtp: fakes.settings, sms: { defaultCountry: 'GB', destinationAllowed: options.allowed ?? (() => true) } },
  }) as Factor<Slot>;
  // The login's slot as the chain keeps it between requests (null empties it, absent keeps it).
  let slot: Slot | undefined;
  const ctx = () => factorContext<Slot>({ uid: 'login-1', account: fakes.accounts.state.account, slot });
  return {
    ...fakes, factor,
    get slot() { return slot; },
    show: () => factor.show(ctx()),
    async submit(form: Form) {
      const outcome = await factor.submit(ctx(), form);
      if (outcome.kind !== 'failed' && outcome.slot !== undefined) slot = outcome.slot ?? undefined;
      return outcome;
    },
  };
}

describe('the phone capture factor', () => {
  it('is there only when captureAndUpdateMobileNumber is on, and enrols rather than being enrolled', () => {
    expect(setup({ settings: { captureAndUpdateMobileNumber: false } }).factor).toBeUndefined();
    const { factor } = setup();
    expect(factor).toMatchObject({ id: 'phone-capture', stage: 'second', role: 'enrol', amr: ['sms'] });
    expect(factor.enrolled(anAccount())).toBe(false);
  });

  it('asks for a number first', async () => {
    const t = setup();
    expect(await t.show()).toEqual({ view: 'factors/phone-capture/number', model: { countryHint: 'GB' } });
    expect(t.sms.attempts).toEqual([]);
  });

  it('refuses a number it cannot use, sending nothing and keeping the number form', async () => {
    const t = setup({ settings: { phoneUnique: true }, allowed: (e164) => !e164.startsWith('+33'), others: [anAccount({ id: '00000000-0000-0000-0000-0000000000b2', username: 'bea', phone: SECOND })] });
    const answers = [];
    for (const phone of ['', '12', '+44 20 7946 0000', '+33 6 12 34 56 78', SECOND]) answers.push(await t.submit({ action: 'number', phone }));
    expect(answers).toEqual([
      { kind: 'retry', message: 'PHONE_MISSING' },
      { kind: 'retry', message: 'PHONE_INVALID' },
      { kind: 'retry', message: 'PHONE_NOT_MOBILE' },
      { kind: 'retry', message: 'PHONE_COUNTRY_REFUSED' },
      { kind: 'retry', message: 'PHONE_UNAVAILABLE' },
    ]);
    expect(t.sms.attempts).toEqual([]);
    expect(t.slot).toBeUndefined();
  });

  it('sends a code to the number typed, keeps it pending, and saves it verified only with that code', async () => {
    const t = setup();
    expect(await t.submit({ action: 'number', phone: TYPED })).toEqual({ kind: 'retry', message: 'CODE_SENT', slot: { pendingPhone: PHONE } });
    expect(t.sms.sent).toMatchObject([{ to: PHONE, code: '111111' }]);
    expect(await t.show()).toEqual({
      view: 'factors/sms-otp/code',
      model: { sent: 'sent', destination: MASKED, numeric: true, codeLength: 6, canResend: true, resendWait: 30, canChangeNumber: true },
    });
    // Not saved before its code is entered.
    expect(t.accounts.state.account.phone).toBeNull();
    const proved = t.accounts.state.account;
    t.clock.advance(5);
    expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'passed', account: proved, slot: null });
    expect(t.accounts.state.account).toMatchObject({ phone: PHONE, phoneVerifiedAt: t.clock.now() });
    expect(t.slot).toBeUndefined();
  });

  it('asks again after a wrong code and saves nothing', async () => {
    const t = setup();
    await t.submit({ action: 'number', phone: TYPED });
    expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'CODE_INCORRECT', params: { attempts: 4 } });
    expect(await t.submit({ action: 'verify' })).toEqual({ kind: 'retry', message: 'CODE_MISSING' });
    expect(t.slot).toEqual({ pendingPhone: PHONE });
    expect(t.accounts.state.account.phone).toBeNull();
  });

  it('ends the login at the first wrong code when retryEnable is off', async () => {
    const t = setup({ settings: { retryEnable: false } });
    await t.submit({ action: 'number', phone: TYPED });
    expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'failed', message: 'CODE_REJECTED' });
    expect(t.accounts.state.account.phone).toBeNull();
  });

  it('goes back to the number form on change, and the new number gets a new code once the cooldown allows', async () => {
    const t = setup();
    await t.submit({ action: 'number', phone: TYPED });
    expect(await t.submit({ action: 'change' })).toEqual({ kind: 'retry', message: 'PHONE_CHANGE', slot: null });
    expect(t.slot).toBeUndefined();
    expect((await t.show()).view).toBe('factors/phone-capture/number');
    // The cooldown holds across numbers: refused before anything went out, the number form stays.
    expect(await t.submit({ action: 'number', phone: SECOND })).toEqual({ kind: 'retry', message: 'RESEND_TOO_SOON', params: { seconds: 30 }, slot: undefined });
    expect(t.slot).toBeUndefined();
    t.clock.advance(30);
    expect(await t.submit({ action: 'number', phone: SECOND })).toEqual({ kind: 'retry', message: 'CODE_RESENT', slot: { pendingPhone: SECOND } });
    expect(t.sms.lastCode(SECOND)).toBe('222222');
    // The first number's code was replaced.
    expect(await t.submit({ action: 'verify', code: '111111' })).toMatchObject({ kind: 'retry', message: 'CODE_INCORRECT' });
    expect(await t.submit({ action: 'verify', code: '222222' })).toMatchObject({ kind: 'passed' });
    expect(t.accounts.state.account.phone).toBe(SECOND);
  });

  it('resends to the pending number, within the same rules as the SMS factor', async () => {
    const t = setup({ settings: { maxResends: 1 } });
    expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'PHONE_MISSING' });
    await t.submit({ action: 'number', phone: TYPED });
    expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_TOO_SOON', params: { seconds: 30 } });
    t.clock.advance(30);
    expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'CODE_RESENT' });
    expect(t.sms.sent.map((m) => [m.to, m.code])).toEqual([[PHONE, '111111'], [PHONE, '222222']]);
    t.clock.advance(3600);
    expect(await t.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_LIMIT' });
    const off = setup({ settings: { resendEnable: false } });
    await off.submit({ action: 'number', phone: TYPED });
    off.clock.advance(3600);
    expect(await off.submit({ action: 'resend' })).toEqual({ kind: 'retry', message: 'RESEND_DISABLED' });
  });

  it('moves to the code page when a send failed (a new code can be asked for), but not when it was refused', async () => {
    const budget = setup({ settings: { userSendLimit: 1 } });
    budget.smsLog.earlier({ at: new Date(START - 45 * 60_000), accountId: budget.accounts.state.account.id, flowUid: 'other-login', ip: '127.0.0.1', destination: '-' });
    expect(await budget.submit({ action: 'number', phone: TYPED })).toEqual({ kind: 'retry', message: 'SEND_LIMIT', params: { minutes: 15 }, slot: undefined });
    expect(budget.slot).toBeUndefined();

    const failing = setup();
    failing.sms.failNext(new SmsDeliveryError('gateway answered 503', 503));
    expect(await failing.submit({ action: 'number', phone: TYPED })).toEqual({ kind: 'retry', message: 'SMS_NOT_SENT', slot: { pendingPhone: PHONE } });
    expect((await failing.show()).model).toMatchObject({ sent: 'failed', canResend: true, resendWait: 0 });

    const uncertain = setup();
    uncertain.sms.failNext(new SmsDeliveryError('timed out', undefined, { mayHaveSent: true }));
    expect(await uncertain.submit({ action: 'number', phone: TYPED })).toEqual({ kind: 'retry', message: 'SMS_UNCERTAIN', slot: { pendingPhone: PHONE } });

    const refused = setup();
    refused.sms.failNext(new SmsDestinationError('the gateway refuses this number'));
    expect(await refused.submit({ action: 'number', phone: TYPED })).toEqual({ kind: 'retry', message: 'SMS_DESTINATION_REFUSED', slot: { pendingPhone: PHONE } });
    expect((await refused.show()).model).toMatchObject({ sent: 'refused', canResend: false, canChangeNumber: true });
  });

  it('saves nothing when the code went to another number than the pending one', async () => {
    const t = setup();
    await t.submit({ action: 'number', phone: TYPED });
    // A slot naming another number (a stale tab, a tampered flow) does not get that number saved.
    const other = t.factor.submit(factorContext<Slot>({ uid: 'login-1', account: t.accounts.state.account, slot: { pendingPhone: SECOND } }), { action: 'verify', code: '111111' });
    expect(await other).toEqual({ kind: 'retry', message: 'PHONE_UNAVAILABLE', slot: null });
    expect(t.accounts.state.account.phone).toBeNull();
  });

  it('saves nothing when the number was verified on another account meanwhile (phoneUnique)', async () => {
    const t = setup({ settings: { phoneUnique: true }, others: [anAccount({ id: '00000000-0000-0000-0000-0000000000b2', username: 'bea', phone: null, phoneVerifiedAt: null })] });
    await t.submit({ action: 'number', phone: TYPED });
    await t.accounts.store.setPhone('00000000-0000-0000-0000-0000000000b2', PHONE, t.clock.now());
    expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'PHONE_UNAVAILABLE', slot: null });
    expect(t.accounts.state.account.phone).toBeNull();
    expect(t.slot).toBeUndefined();
    // Not stranded: another number, after the cooldown, gets a code that saves it; the spent code is dead.
    t.clock.advance(60);
    expect(await t.submit({ action: 'number', phone: SECOND })).toMatchObject({ kind: 'retry', slot: { pendingPhone: SECOND } });
    expect(t.sms.attempts.at(-1)).toMatchObject({ to: SECOND });
    expect(await t.submit({ action: 'verify', code: '111111' })).toMatchObject({ kind: 'retry' });
    expect(await t.submit({ action: 'verify', code: '222222' })).toMatchObject({ kind: 'passed' });
    expect(t.accounts.state.account).toMatchObject({ phone: SECOND });
  });

  describe('on a locked account', () => {
    const lockedUntil = new Date(START + 10 * 60_000);

    it('sends no SMS, keeps the slot and says for how long it is locked', async () => {
      const t = setup({ account: { otpLockedUntil: lockedUntil, failedOtpCount: 3 } });
      expect(await t.show()).toEqual({ view: 'second-factor-unavailable', model: {}, message: { message: 'OTP_LOCKED', params: { minutes: 10 } } });
      expect(await t.submit({ action: 'number', phone: TYPED })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 10 } });
      expect(t.sms.attempts).toEqual([]);
      expect(t.slot).toBeUndefined();
    });

    it('reads as a wrong code when showAuthFailureReason is off', async () => {
      const t = setup({ account: { otpLockedUntil: lockedUntil, failedOtpCount: 3 }, settings: { showAuthFailureReason: false } });
      expect((await t.show()).message).toEqual({ message: 'CODE_INCORRECT_PLAIN', params: undefined });
      expect(await t.submit({ action: 'number', phone: TYPED })).toEqual({ kind: 'retry', message: 'CODE_INCORRECT_PLAIN' });
      expect(t.sms.attempts).toEqual([]);
    });

    it('locks with the wrong code that reaches the threshold, and then refuses the right one', async () => {
      const t = setup({ account: { failedOtpCount: 2 } });
      await t.submit({ action: 'number', phone: TYPED });
      expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 15 } });
      expect(t.events.filter((e) => e.event === 'account.locked')).toMatchObject([{ step: 'phone-capture', reason: 'otp_failures' }]);
      expect(await t.submit({ action: 'verify', code: '111111' })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 15 } });
      expect(t.accounts.state.account.phone).toBeNull();
    });

    it('counts afresh once the lock has run out', async () => {
      const t = setup({ account: { failedOtpCount: 3, otpLockedUntil: new Date(START) } });
      await t.submit({ action: 'number', phone: TYPED });
      expect(await t.submit({ action: 'verify', code: '999999' })).toEqual({ kind: 'retry', message: 'CODE_INCORRECT', params: { attempts: 4 } });
      expect(t.accounts.state.account).toMatchObject({ failedOtpCount: 1, otpLockedUntil: null });
    });
  });

  it('records the number and its proof, with neither a code nor the full number', async () => {
    const t = setup();
    await t.submit({ action: 'number', phone: TYPED });
    await t.submit({ action: 'verify', code: '999999' });
    await t.submit({ action: 'verify', code: '111111' });
    expect(t.events.map((e) => [e.event, e.result])).toEqual([['sms.sent', 'success'], ['phone.captured', 'info'], ['phone.verify', 'failure'], ['phone.verified', 'success']]);
    expect(t.events.find((e) => e.event === 'phone.verified')).toMatchObject({ step: 'phone-capture', detail: { destination: MASKED } });
    const recorded = JSON.stringify(t.events);
    for (const secret of ['111111', '999999', PHONE, PHONE.slice(1), '7400123456', TYPED]) expect(recorded).not.toContain(secret);
  });
});
