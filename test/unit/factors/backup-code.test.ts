import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.ts';
import { issueBackupCodes } from '../../../src/login/factors/backup-code/codes.ts';
import { backupCodeFactor } from '../../../src/login/factors/backup-code/factor.ts';
import type { Factor, Form } from '../../../src/login/factor.ts';
import type { Account } from '../../../src/login/ports.ts';
import {
  anAccount, factorContext, fakeAccounts, fakeBackupCodes, fakeHasher, recordingAudit, scriptedRandom, smsOtpSettings, TestClock,
} from '../../support/login-fakes.ts';

const START = Date.parse('2026-03-01T09:00:00Z');

async function setup(options: { account?: Partial<Account>; settings?: Partial<Config['smsOtp']> } = {}) {
  const clock = new TestClock(START);
  const accounts = fakeAccounts(anAccount(options.account));
  const backupCodes = fakeBackupCodes();
  const { hasher, calls } = fakeHasher();
  const { events, audit } = recordingAudit();
  const factor = backupCodeFactor({ accounts: accounts.store, backupCodes: backupCodes.store, hasher, audit, clock, settings: { smsOtp: { ...smsOtpSettings, ...options.settings } } });
  // 100 scripted symbols: ABCDE-FGHJK, LMNPQ-RSTUV, ...
  const codes = await issueBackupCodes(backupCodes.store, hasher, scriptedRandom(Array.from({ length: 100 }, (_, i) => i)), accounts.state.account.id);
  calls.verify = 0;
  const ctx = () => factorContext({ uid: 'login-1', account: accounts.state.account });
  return { clock, accounts, backupCodes, calls, events, codes, factor: factor!, submit: (form: Form) => factor!.submit(ctx(), form) };
}

describe('the backup code factor', () => {
  it('is there only when backupCode is on, as a fallback offered to every account', async () => {
    expect((await setup({ settings: { backupCode: false } })).factor).toBeUndefined();
    const { factor } = await setup();
    expect(factor).toMatchObject({ id: 'backup-code', stage: 'second', role: 'fallback', amr: ['mfa'], offer: { action: 'backup', label: 'backup-code.offer' } } satisfies Partial<Factor>);
    expect(factor.enrolled(anAccount({ phone: null }))).toBe(true);
    expect(await factor.show(factorContext())).toEqual({ view: 'factors/backup-code/code', model: {} });
  });

  it('passes with an unused code however it is typed, and says how many are left', async () => {
    const t = await setup({ account: { failedOtpCount: 2 } });
    expect(t.codes[0]).toBe('ABCDE-FGHJK');
    const proved = t.accounts.state.account;
    expect(await t.submit({ action: 'verify', code: ' abcde fghjk ' })).toEqual({ kind: 'passed', account: proved, notice: { message: 'BACKUP_CODES_LEFT', params: { count: 9 } } });
    expect(t.accounts.state.account.failedOtpCount).toBe(0);
    expect(await t.submit({ action: 'verify', code: t.codes[1] })).toMatchObject({ kind: 'passed', notice: { message: 'BACKUP_CODES_LEFT', params: { count: 8 } } });
  });

  it('takes each code once', async () => {
    const t = await setup();
    expect(await t.submit({ action: 'verify', code: t.codes[3] })).toMatchObject({ kind: 'passed' });
    expect(await t.submit({ action: 'verify', code: t.codes[3] })).toEqual({ kind: 'retry', message: 'BACKUP_CODE_INCORRECT' });
    expect(t.accounts.state.account.failedOtpCount).toBe(1);
  });

  it('lets only one of two logins racing with one code pass', async () => {
    const t = await setup({ settings: { lockoutThreshold: 10 } });
    const outcomes = await Promise.all([t.submit({ action: 'verify', code: t.codes[0] }), t.submit({ action: 'verify', code: t.codes[0] })]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['passed', 'retry']);
    expect(await t.backupCodes.store.countUnused(t.accounts.state.account.id)).toBe(9);
  });

  it('says so when the last code was used', async () => {
    const t = await setup({ settings: { lockoutThreshold: 100 } });
    const notices = [];
    for (const code of t.codes) notices.push((await t.submit({ action: 'verify', code })) as { notice?: unknown });
    expect(notices.slice(-2).map((o) => o.notice)).toEqual([{ message: 'BACKUP_CODES_LEFT', params: { count: 1 } }, { message: 'BACKUP_CODES_NONE_LEFT' }]);
  });

  it('asks for a code without spending an attempt, and counts a wrong or malformed one', async () => {
    const t = await setup({ settings: { lockoutThreshold: 10 } });
    expect(await t.submit({ action: 'verify', code: '  ' })).toEqual({ kind: 'retry', message: 'BACKUP_CODE_MISSING' });
    expect(t.accounts.state.account.failedOtpCount).toBe(0);
    expect(await t.submit({ action: 'verify', code: 'ZZZZZ-ZZZZZ' })).toEqual({ kind: 'retry', message: 'BACKUP_CODE_INCORRECT' });
    expect(await t.submit({ action: 'verify', code: 'not a code!' })).toEqual({ kind: 'retry', message: 'BACKUP_CODE_INCORRECT' });
    expect(t.accounts.state.account.failedOtpCount).toBe(2);
    // A malformed code is not hashed at all.
    expect(t.calls.verify).toBe(10);
    expect(t.events).toMatchObject([{ event: 'login.backup_code', result: 'failure', reason: 'wrong_code' }, { event: 'login.backup_code', result: 'failure' }]);
  });

  describe('on a locked account', () => {
    const lockedUntil = new Date(START + 10 * 60_000);

    it('compares no code and says for how long it is locked', async () => {
      const t = await setup({ account: { otpLockedUntil: lockedUntil, failedOtpCount: 3 } });
      expect(await t.submit({ action: 'verify', code: t.codes[0] })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 10 } });
      expect(t.calls.verify).toBe(0);
      expect(await t.backupCodes.store.countUnused(t.accounts.state.account.id)).toBe(10);
    });

    it('reads as a wrong code when showAuthFailureReason is off', async () => {
      const t = await setup({ account: { otpLockedUntil: lockedUntil, failedOtpCount: 3 }, settings: { showAuthFailureReason: false } });
      expect(await t.submit({ action: 'verify', code: t.codes[0] })).toEqual({ kind: 'retry', message: 'BACKUP_CODE_INCORRECT' });
      expect(t.calls.verify).toBe(0);
    });

    it('locks with the wrong code that reaches the threshold (SMS codes count too), then refuses a right one', async () => {
      // Two wrong SMS codes before; the threshold is 3.
      const t = await setup({ account: { failedOtpCount: 2 } });
      expect(await t.submit({ action: 'verify', code: 'ZZZZZ-ZZZZZ' })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 15 } });
      expect(t.events.filter((e) => e.event === 'account.locked')).toMatchObject([{ step: 'backup-code', reason: 'otp_failures' }]);
      t.clock.advance(60);
      expect(await t.submit({ action: 'verify', code: t.codes[0] })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 14 } });
      expect(await t.backupCodes.store.countUnused(t.accounts.state.account.id)).toBe(10);
    });

    it('hides the lock set by a wrong code when showAuthFailureReason is off', async () => {
      const t = await setup({ account: { failedOtpCount: 2 }, settings: { showAuthFailureReason: false } });
      expect(await t.submit({ action: 'verify', code: 'ZZZZZ-ZZZZZ' })).toEqual({ kind: 'retry', message: 'BACKUP_CODE_INCORRECT' });
      expect(t.accounts.state.account.otpLockedUntil).not.toBeNull();
    });

    it('counts afresh once the lock has run out', async () => {
      const t = await setup({ account: { failedOtpCount: 3, otpLockedUntil: new Date(START - 1) } });
      expect(await t.submit({ action: 'verify', code: 'ZZZZZ-ZZZZZ' })).toEqual({ kind: 'retry', message: 'BACKUP_CODE_INCORRECT' });
      expect(t.accounts.state.account).toMatchObject({ failedOtpCount: 1, otpLockedUntil: null });
      expect(await t.submit({ action: 'verify', code: t.codes[0] })).toMatchObject({ kind: 'passed' });
    });
  });

  it('records uses and failures with how many are left, never a code', async () => {
    const t = await setup();
    await t.submit({ action: 'verify', code: 'ZZZZZ-ZZZZZ' });
    await t.submit({ action: 'verify', code: t.codes[0] });
    expect(t.events).toMatchObject([
      { event: 'login.backup_code', result: 'failure', step: 'backup-code', accountId: t.accounts.state.account.id },
      { event: 'login.backup_code', result: 'success', step: 'backup-code', detail: { left: 9 } },
    ]);
    const recorded = JSON.stringify(t.events);
    for (const secret of ['ZZZZZ', ...t.codes, ...t.codes.map((c) => c.replace('-', ''))]) expect(recorded).not.toContain(secret);
  });
});
