import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.ts';
import { backupCodeRenewal } from '../../../src/login/factors/backup-code/account.ts';
import { canonicalBackupCode } from '../../../src/login/factors/backup-code/codes.ts';
import { phoneChange } from '../../../src/login/factors/sms-otp/account.ts';
import type { Account } from '../../../src/login/ports.ts';
import { SmsDeliveryError } from '../../../src/sms/port.ts';
import {
  anAccount, factorContext, fakeBackupCodes, fakeHasher, recordingAudit, scriptedRandom, smsCodeFakes, testOtpKey,
  shippedTexts,
} from '../../support/login-fakes.ts';

const OLD = '+447400123456';
const NEW = '+447400654321';
const THIRD = '+447400111222';
const START = Date.parse('2026-03-01T09:00:00Z');
const OTHER_ID = '00000000-0000-0000-0000-0000000000b2';

describe('changing the number on the account page', () => {
  function setup(options: { account?: Partial<Account>; others?: Account[]; settings?: Partial<Config['smsOtp']> } = {}) {
    const fakes = smsCodeFakes({ account: anAccount({ phone: OLD, ...options.account }), others: options.others, codes: [111111, 222222, 333333], settings: options.settings });
    const order: string[] = [];
    const setPhone = fakes.accounts.store.setPhone;
    fakes.accounts.store.setPhone = async (...args) => { order.push('setPhone'); await setPhone(...args); };
    const change = phoneChange({
      accounts: fakes.accounts.store, otp: fakes.otp.store, sending: fakes.sending, sender: fakes.sms.sender, audit: fakes.audit, clock: fakes.clock,
      otpHmacKey: testOtpKey, serviceName: 'Keystep', texts: shippedTexts.page, settings: { smsOtp: fakes.settings, sms: { defaultCountry: 'GB', destinationAllowed: () => true } },
    });
    const ctx = () => factorContext({ uid: 'change-1', account: fakes.accounts.state.account });
    const beforeSave = async () => { order.push('beforeSave'); };
    return {
      ...fakes, change, order,
      start: (input: string) => change.start(ctx(), fakes.accounts.state.account, input),
      finish: (pending: string, code: string, before = beforeSave) => change.finish(ctx(), fakes.accounts.state.account, pending, code, before),
    };
  }

  it('refuses the number the account already has, sending nothing', async () => {
    const t = setup();
    const result = await t.start('07400 123456');
    expect(result).toEqual({ ok: false, reason: 'same' });
    expect(t.change.notice(result as typeof result & { ok: false })).toEqual({ message: 'PHONE_SAME' });
    expect(t.sms.attempts).toEqual([]);
  });

  it('refuses a number verified on another account (phoneUnique) or not a number at all', async () => {
    const t = setup({ settings: { phoneUnique: true }, others: [anAccount({ id: OTHER_ID, username: 'bea', phone: NEW })] });
    const taken = await t.start(NEW);
    expect(taken).toEqual({ ok: false, reason: 'number', problem: 'taken' });
    expect(t.change.notice(taken as typeof taken & { ok: false })).toEqual({ message: 'PHONE_UNAVAILABLE' });
    const invalid = await t.start('12');
    expect(t.change.notice(invalid as typeof invalid & { ok: false })).toEqual({ message: 'PHONE_INVALID' });
    expect(t.sms.attempts).toEqual([]);
  });

  it('does nothing on a locked account: no SMS, no number saved', async () => {
    const t = setup({ account: { otpLockedUntil: new Date(START + 60_000), failedOtpCount: 3 } });
    const started = await t.start(NEW);
    expect(started).toEqual({ ok: false, reason: 'locked' });
    expect(t.change.notice(started as typeof started & { ok: false })).toEqual({ message: 'OTP_LOCKED_PLAIN' });
    expect(await t.finish(NEW, '111111')).toEqual({ ok: false, reason: 'locked' });
    expect(t.sms.attempts).toEqual([]);
    expect(t.order).toEqual([]);
    expect(t.accounts.state.account.phone).toBe(OLD);
  });

  it('sends a code to the new number, within the resend rules', async () => {
    const t = setup({ settings: { userSendLimit: 2 } });
    expect(await t.start('07400 654321')).toEqual({ ok: true, phone: NEW });
    expect(t.sms.sent).toMatchObject([{ to: NEW, code: '111111', purpose: 'otp', flowUid: 'change-1' }]);
    const tooSoon = await t.start(THIRD);
    expect(tooSoon).toEqual({ ok: false, reason: 'send', result: { kind: 'refused', reason: 'too-soon', waitSeconds: 30 } });
    expect(t.change.notice(tooSoon as typeof tooSoon & { ok: false })).toEqual({ message: 'RESEND_TOO_SOON', params: { seconds: 30 } });
    t.clock.advance(30);
    expect(await t.start(THIRD)).toEqual({ ok: true, phone: THIRD });
    t.clock.advance(600);
    const spent = await t.start(NEW);
    expect(t.change.notice(spent as typeof spent & { ok: false })).toEqual({ message: 'SEND_LIMIT', params: { minutes: 50 } });
    expect(t.sms.attempts.map((m) => m.to)).toEqual([NEW, THIRD]);
  });

  it('says when the code could not be sent', async () => {
    const t = setup();
    t.sms.failNext(new SmsDeliveryError('gateway answered 503', 503));
    const failed = await t.start(NEW);
    expect(failed).toEqual({ ok: false, reason: 'send', result: { kind: 'failed', uncertain: false, destinationRefused: false, previousCodeWorks: false } });
    expect(t.change.notice(failed as typeof failed & { ok: false })).toEqual({ message: 'SMS_NOT_SENT' });
  });

  it('saves the number only with the right code, signing out the rest before saving, and tells the old number', async () => {
    const t = setup({ account: { failedOtpCount: 1 } });
    await t.start(NEW);
    const wrong = await t.finish(NEW, '999999');
    expect(wrong).toMatchObject({ ok: false, reason: 'code', check: { reason: 'wrong', attemptsLeft: 4, locked: false } });
    expect(t.change.notice(wrong as typeof wrong & { ok: false })).toEqual({ message: 'CODE_INCORRECT', params: { attempts: 4 } });
    expect(t.order).toEqual([]);
    expect(t.accounts.state.account.phone).toBe(OLD);

    t.clock.advance(10);
    expect(await t.finish(NEW, '111111')).toEqual({ ok: true });
    expect(t.order).toEqual(['beforeSave', 'setPhone']);
    expect(t.accounts.state.account).toMatchObject({ phone: NEW, phoneVerifiedAt: t.clock.now(), failedOtpCount: 0 });
    const notice = t.sms.sent.at(-1)!;
    expect(notice).toMatchObject({ to: OLD, purpose: 'notice', accountId: t.accounts.state.account.id });
    expect(notice.text).toContain('+44 •••• ••43 21');
    expect(notice.text).not.toContain(NEW.slice(3));
    // The code was used.
    expect(await t.finish(NEW, '111111')).toMatchObject({ ok: false, reason: 'code', check: { reason: 'used' } });
  });

  it('keeps the old number when signing out the other sessions fails', async () => {
    const t = setup();
    await t.start(NEW);
    await expect(t.finish(NEW, '111111', async () => { throw new Error('the database went away'); })).rejects.toThrow('the database went away');
    expect(t.order).toEqual([]);
    expect(t.accounts.state.account.phone).toBe(OLD);
    expect(t.sms.sent.map((m) => m.to)).toEqual([NEW]);
  });

  it('does not save a number other than the one the code went to', async () => {
    const t = setup();
    await t.start(NEW);
    const other = await t.finish(THIRD, '111111');
    expect(other).toEqual({ ok: false, reason: 'other-number' });
    expect(t.change.notice(other as typeof other & { ok: false })).toEqual({ message: 'CODE_DEAD' });
    expect(t.order).toEqual([]);
    expect(t.accounts.state.account.phone).toBe(OLD);
  });

  it('does not save a number verified on another account meanwhile (phoneUnique)', async () => {
    const t = setup({ settings: { phoneUnique: true }, others: [anAccount({ id: OTHER_ID, username: 'bea', phone: null, phoneVerifiedAt: null })] });
    await t.start(NEW);
    await t.accounts.store.setPhone(OTHER_ID, NEW, t.clock.now());
    t.order.length = 0;
    const taken = await t.finish(NEW, '111111');
    expect(taken).toEqual({ ok: false, reason: 'taken' });
    expect(t.change.notice(taken as typeof taken & { ok: false })).toEqual({ message: 'PHONE_UNAVAILABLE' });
    expect(t.order).toEqual([]);
    expect(t.accounts.state.account.phone).toBe(OLD);
    // Not stranded: another number, after the cooldown, really gets a code.
    t.clock.advance(60);
    const sent = t.sms.attempts.length;
    expect(await t.start('+447400999111')).toEqual({ ok: true, phone: '+447400999111' });
    expect(t.sms.attempts.slice(sent)).toEqual([expect.objectContaining({ to: '+447400999111' })]);
  });

  it('locks with the wrong code that reaches the threshold, and says so', async () => {
    const t = setup({ account: { failedOtpCount: 2 } });
    await t.start(NEW);
    const locked = await t.finish(NEW, '999999');
    expect(locked).toMatchObject({ ok: false, reason: 'code', check: { reason: 'wrong', locked: true } });
    expect(t.change.notice(locked as typeof locked & { ok: false })).toEqual({ message: 'OTP_LOCKED', params: { minutes: 15 } });
    expect(t.events.filter((e) => e.event === 'account.locked')).toMatchObject([{ step: 'account' }]);
  });

  it('says the code was rejected, without a retry, when retryEnable is off', async () => {
    const t = setup({ settings: { retryEnable: false } });
    await t.start(NEW);
    const wrong = await t.finish(NEW, '999999');
    expect(t.change.notice(wrong as typeof wrong & { ok: false })).toEqual({ message: 'CODE_REJECTED', params: undefined });
  });

  it('saves the number even when the notice to the old number fails, and records that it failed', async () => {
    const t = setup();
    await t.start(NEW);
    t.sms.failNext(new SmsDeliveryError('gateway answered 500', 500));
    expect(await t.finish(NEW, '111111')).toEqual({ ok: true });
    expect(t.accounts.state.account.phone).toBe(NEW);
    expect(t.events.at(-1)).toMatchObject({ event: 'account.phone_change_notice', result: 'failure', detail: { destination: '+44 •••• ••34 56' } });
  });

  it('sends no notice when the account had no number', async () => {
    const t = setup({ account: { phone: null, phoneVerifiedAt: null } });
    await t.start(NEW);
    expect(await t.finish(NEW, '111111')).toEqual({ ok: true });
    expect(t.sms.sent.map((m) => m.purpose)).toEqual(['otp']);
  });

  it('records the change with masked numbers and no code', async () => {
    const t = setup();
    await t.start(NEW);
    await t.finish(NEW, '999999');
    await t.finish(NEW, '111111');
    expect(t.events.map((e) => [e.event, e.result])).toEqual([
      ['sms.sent', 'success'], ['account.phone_change_started', 'info'], ['account.phone_verify', 'failure'], ['account.phone_changed', 'success'],
    ]);
    expect(t.events.find((e) => e.event === 'account.phone_changed')).toMatchObject({ step: 'account', detail: { from: '+44 •••• ••34 56', to: '+44 •••• ••43 21' } });
    const recorded = JSON.stringify(t.events);
    for (const secret of ['111111', '999999', OLD.slice(3), NEW.slice(3)]) expect(recorded).not.toContain(secret);
  });
});

describe('renewing backup codes on the account page', () => {
  const ctx = { uid: 'change-1', clientId: 'account', ip: '127.0.0.1' };
  const accountId = anAccount().id;

  async function setup() {
    const backupCodes = fakeBackupCodes();
    const { hasher } = fakeHasher();
    const { events, audit } = recordingAudit();
    const random = scriptedRandom(Array.from({ length: 100 }, (_, i) => i));
    const shownOnceKey = createSecretKey(Buffer.alloc(32, 2));
    const renewal = backupCodeRenewal({ backupCodes: backupCodes.store, hasher, audit, random, shownOnceKey });
    await backupCodes.store.replaceAll(accountId, ['hash:OLDCODE234']);
    return { backupCodes, hasher, events, renewal, shown: await renewal.renew(ctx, accountId) };
  }

  it('replaces the old set with fresh codes, whose hashes alone are stored', async () => {
    const t = await setup();
    const codes = t.renewal.open(ctx.uid, t.shown)!;
    expect(codes).toHaveLength(10);
    expect(codes.slice(0, 2)).toEqual(['ABCDE-FGHJK', 'LMNPQ-RSTUV']);
    const stored = await t.backupCodes.store.listUnused(accountId);
    expect(stored.map((c) => c.hash)).toEqual(codes.map((c) => `hash:${canonicalBackupCode(c)}`));
    expect(t.events).toEqual([{ event: 'account.backup_codes_generated', result: 'success', step: 'account', accountId, clientId: 'account', flowUid: 'change-1', ip: '127.0.0.1', detail: { count: 10 } }]);
  });

  it('opens the sealed codes only for the same change and key', async () => {
    const t = await setup();
    expect(t.renewal.open(ctx.uid, t.shown)).toHaveLength(10);
    expect(t.renewal.open('change-2', t.shown)).toBeUndefined();
    const otherKey = backupCodeRenewal({ backupCodes: t.backupCodes.store, hasher: t.hasher, audit: recordingAudit().audit, random: scriptedRandom(), shownOnceKey: createSecretKey(Buffer.alloc(32, 3)) });
    expect(otherKey.open(ctx.uid, t.shown)).toBeUndefined();
    const flipped = t.shown.sealed.slice(0, -2) + (t.shown.sealed.at(-2) === 'A' ? 'B' : 'A') + t.shown.sealed.at(-1);
    expect(t.renewal.open(ctx.uid, { sealed: flipped })).toBeUndefined();
  });

  it('never holds the codes in plain text, sealed or recorded', async () => {
    const t = await setup();
    const codes = t.renewal.open(ctx.uid, t.shown)!;
    const visible = [t.shown.sealed, Buffer.from(t.shown.sealed, 'base64url').toString('latin1'), JSON.stringify(t.events)];
    for (const code of codes) {
      for (const text of visible) {
        expect(text).not.toContain(code);
        expect(text).not.toContain(canonicalBackupCode(code));
      }
    }
  });
});
