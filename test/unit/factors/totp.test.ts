import { createSecretKey } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.ts';
import { loginChain } from '../../../src/login/chain.ts';
import { loginContext } from '../../../src/login/context.ts';
import type { Factor, Form } from '../../../src/login/factor.ts';
import { totpEnrolment } from '../../../src/login/factors/totp/account.ts';
import { removalGuard } from '../../../src/login/last-factor.ts';
import { totpFactor } from '../../../src/login/factors/totp/factor.ts';
import type { TotpCredential, TotpStore } from '../../../src/login/factors/totp/ports.ts';
import { sealSecret } from '../../../src/login/factors/totp/secrets.ts';
import type { Account } from '../../../src/login/ports.ts';
import { blankFlow } from '../../../src/login/flow.ts';
import { anAccount, factorContext, fakeAccounts, recordingAudit, scriptedRandom, smsOtpSettings, TestClock, testOtpKey } from '../../support/login-fakes.ts';

// In the middle of a 30-second step, so that a code 30 s off is of the next or previous step.
const START = Date.parse('2026-03-01T09:00:10Z');
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

const codeAt = (ms: number, secret = SECRET) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: ms });
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** An in-memory TotpStore with the port's condition on the accepted step, counting reads and accepts. */
function fakeTotp() {
  const rows = new Map<string, TotpCredential>();
  const calls = { find: 0, accept: 0 };
  const store: TotpStore = {
    find: async (id) => { calls.find++; const row = rows.get(id); return row && { ...row }; },
    save: async (accountId, sealedSecret, confirmedStep, at) => { rows.set(accountId, { accountId, sealedSecret, lastStep: confirmedStep, createdAt: at, lastUsedAt: null }); },
    async acceptStep(id, step, at) {
      calls.accept++;
      const row = rows.get(id);
      if (!row || (row.lastStep !== null && row.lastStep >= step)) return false;
      rows.set(id, { ...row, lastStep: step, lastUsedAt: at });
      return true;
    },
    remove: async (id) => rows.delete(id),
  };
  return { store, rows, calls };
}

function setup(options: { account?: Partial<Account>; settings?: Partial<Config['smsOtp']>; enrolled?: boolean } = {}) {
  const clock = new TestClock(START);
  // Whether the account has the app comes with the account (its factors), as the store keeps it.
  const factors = options.enrolled === false ? [] : [{ id: 'totp', enrolledAt: new Date(START - 86_400_000), lastUsedAt: null }];
  const accounts = fakeAccounts(anAccount({ factors, ...options.account }));
  const totp = fakeTotp();
  const { events, audit } = recordingAudit();
  const settings = { smsOtp: { ...smsOtpSettings, ...options.settings } };
  const id = accounts.state.account.id;
  if (options.enrolled !== false) totp.rows.set(id, { accountId: id, sealedSecret: sealSecret(testOtpKey, SECRET, id), lastStep: null, createdAt: new Date(START - 86_400_000), lastUsedAt: null });
  const factor: Factor = totpFactor({ accounts: accounts.store, totp: totp.store, audit, clock, totpKey: testOtpKey, settings });
  const ctx = () => factorContext({ uid: 'login-1', account: accounts.state.account });
  return { clock, accounts, totp, events, audit, settings, factor, submit: (form: Form) => factor.submit(ctx(), form) };
}

describe('the authenticator app factor', () => {
  it('is a second factor proving otp, offered to the accounts that set one up', async () => {
    const t = setup();
    expect(t.factor).toMatchObject({ id: 'totp', stage: 'second', amr: ['otp'], actions: ['verify'], offer: { action: 'totp', label: 'totp.offer' } });
    expect(t.factor.role).toBeUndefined();
    expect(await t.factor.enrolled(t.accounts.state.account)).toBe(true);
    expect(await setup({ enrolled: false }).factor.enrolled(anAccount())).toBe(false);
    expect(await t.factor.show(factorContext({ account: t.accounts.state.account }))).toEqual({ view: 'factors/totp/code', model: {} });
  });

  it('says to use another way, without taking an attempt, when the secret does not open (the server secret changed)', async () => {
    const t = setup({ account: { failedOtpCount: 1 } });
    const id = t.accounts.state.account.id;
    const otherKey = createSecretKey(Buffer.alloc(32, 7));
    t.totp.rows.set(id, { ...t.totp.rows.get(id)!, sealedSecret: sealSecret(otherKey, SECRET, id) });
    expect(await t.submit({ action: 'verify', code: codeAt(START) })).toEqual({ kind: 'retry', message: 'TOTP_UNREADABLE' });
    expect(t.accounts.state.account.failedOtpCount).toBe(1);
    expect(t.events.at(-1)).toMatchObject({ event: 'login.totp', result: 'failure', reason: 'secret_unreadable' });
  });

  it('passes with the code of now, clears the count of wrong codes and records when it was used', async () => {
    const t = setup({ account: { failedOtpCount: 2 }, settings: { lockoutThreshold: 5 } });
    const proved = t.accounts.state.account;
    expect(await t.submit({ action: 'verify', code: codeAt(START) })).toEqual({ kind: 'passed', account: proved });
    expect(t.accounts.state.account.failedOtpCount).toBe(0);
    expect(t.totp.rows.get(proved.id)).toMatchObject({ lastStep: Math.floor(START / 30_000), lastUsedAt: new Date(START) });
    expect(t.events).toMatchObject([{ event: 'login.totp', result: 'success', step: 'totp' }]);
  });

  it('asks for a code without spending an attempt, and counts a wrong or malformed one toward the account lock', async () => {
    const t = setup({ settings: { lockoutThreshold: 10 } });
    expect(await t.submit({ action: 'verify', code: ' ' })).toEqual({ kind: 'retry', message: 'TOTP_MISSING' });
    expect(t.accounts.state.account.failedOtpCount).toBe(0);
    expect(await t.submit({ action: 'verify', code: wrong(codeAt(START)) })).toEqual({ kind: 'retry', message: 'TOTP_INCORRECT' });
    expect(await t.submit({ action: 'verify', code: 'abcdef' })).toEqual({ kind: 'retry', message: 'TOTP_INCORRECT' });
    expect(t.accounts.state.account.failedOtpCount).toBe(2);
    expect(t.events).toMatchObject([{ event: 'login.totp', result: 'failure', reason: 'wrong_code' }, { event: 'login.totp', result: 'failure', reason: 'wrong_code' }]);
    // A wrong code then a right one: the login goes on.
    expect(await t.submit({ action: 'verify', code: codeAt(START) })).toMatchObject({ kind: 'passed' });
  });

  it('locks with the wrong code that reaches the threshold (SMS codes count too), then refuses a right one', async () => {
    // Two wrong SMS codes before; the threshold is 3.
    const t = setup({ account: { failedOtpCount: 2 } });
    expect(await t.submit({ action: 'verify', code: wrong(codeAt(START)) })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 15 } });
    expect(t.events.filter((e) => e.event === 'account.locked')).toMatchObject([{ step: 'totp', reason: 'otp_failures' }]);
    t.clock.advance(60);
    expect(await t.submit({ action: 'verify', code: codeAt(t.clock.now().getTime()) })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 14 } });
    expect(t.totp.rows.get(t.accounts.state.account.id)!.lastStep).toBeNull();
  });

  it('refuses a locked account without comparing, reading or spending anything', async () => {
    const t = setup({ account: { otpLockedUntil: new Date(START + 10 * 60_000), failedOtpCount: 3 } });
    expect(await t.submit({ action: 'verify', code: codeAt(START) })).toEqual({ kind: 'retry', message: 'OTP_LOCKED', params: { minutes: 10 } });
    expect(t.totp.calls).toEqual({ find: 0, accept: 0 });
    expect(t.accounts.state.account.failedOtpCount).toBe(3);
    expect((await t.factor.show(factorContext({ account: t.accounts.state.account }))).view).toBe('second-factor-unavailable');
    const hidden = setup({ account: { otpLockedUntil: new Date(START + 60_000), failedOtpCount: 3 }, settings: { showAuthFailureReason: false } });
    expect(await hidden.submit({ action: 'verify', code: codeAt(START) })).toEqual({ kind: 'retry', message: 'TOTP_INCORRECT' });
  });

  it('accepts each time step once: the same code again, or an older step after a newer one, is refused', async () => {
    const t = setup({ settings: { lockoutThreshold: 10 } });
    const code = codeAt(START);
    expect(await t.submit({ action: 'verify', code })).toMatchObject({ kind: 'passed' });
    expect(await t.submit({ action: 'verify', code })).toEqual({ kind: 'retry', message: 'TOTP_INCORRECT' });
    // The previous step's code is still within the window, but older than the one used.
    expect(await t.submit({ action: 'verify', code: codeAt(START - 30_000) })).toEqual({ kind: 'retry', message: 'TOTP_INCORRECT' });
    expect(t.events.filter((e) => e.result === 'failure').map((e) => e.reason)).toEqual(['code_replayed', 'code_replayed']);
    expect(t.accounts.state.account.failedOtpCount).toBe(2);
    // The next step's code is new.
    t.clock.advance(30);
    expect(await t.submit({ action: 'verify', code: codeAt(t.clock.now().getTime()) })).toMatchObject({ kind: 'passed' });
  });

  it('accepts the code of one step either side of now, and not of two', async () => {
    for (const [offset, kind] of [[-30_000, 'passed'], [30_000, 'passed'], [-60_000, 'retry'], [60_000, 'retry'], [0, 'passed']] as const) {
      const t = setup();
      expect((await t.submit({ action: 'verify', code: codeAt(START + offset) })).kind, `offset ${offset}`).toBe(kind);
    }
  });

  it('says so when the app was removed since the page was shown, spending nothing', async () => {
    const t = setup({ enrolled: false });
    expect(await t.submit({ action: 'verify', code: codeAt(START) })).toEqual({ kind: 'retry', message: 'TOTP_NOT_SET_UP' });
    expect(t.accounts.state.account.failedOtpCount).toBe(0);
  });

  it('never records the secret or a code', async () => {
    const t = setup();
    await t.submit({ action: 'verify', code: wrong(codeAt(START)) });
    await t.submit({ action: 'verify', code: codeAt(START) });
    const recorded = JSON.stringify(t.events);
    for (const secret of [SECRET, codeAt(START), wrong(codeAt(START))]) expect(recorded).not.toContain(secret);
  });
});

describe('setting up the authenticator app on the account page', () => {
  function enrolment(options: { account?: Partial<Account> } = {}) {
    const t = setup({ enrolled: false, account: options.account, settings: { lockoutThreshold: 3 } });
    const half = totpEnrolment({ accounts: t.accounts.store, totp: t.totp.store, audit: t.audit, clock: t.clock, random: scriptedRandom(), totpKey: testOtpKey, serviceName: 'Keystep', settings: t.settings, notify: async () => {}, guardRemoval: removalGuard(async () => true, t.accounts.store, async (_id, work) => ({ ran: true as const, value: await work() })) });
    const ctx = () => factorContext({ uid: 'change-1', clientId: 'keystep-account', account: t.accounts.state.account, flow: { accountId: t.accounts.state.account.id } });
    return { ...t, half, ctx };
  }

  it('shows a new secret as a QR code, a URI with issuer and username and grouped text, and keeps it only sealed', async () => {
    const t = enrolment();
    const pending = t.half.start(t.ctx(), t.accounts.state.account);
    const page = (await t.half.page(t.ctx(), t.accounts.state.account, pending))!;
    const secret = page.secret.replaceAll(' ', '');
    expect(page.secret).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
    expect(page.uri).toBe(`otpauth://totp/Keystep:ada?issuer=Keystep&secret=${secret}&algorithm=SHA1&digits=6&period=30`);
    expect(page.qr).toMatch(/^<svg [^>]*viewBox="[^"]+"[^>]*>.*<\/svg>\s*$/s);
    expect(page.qr).not.toMatch(/<script|style=|on\w+=/i);
    expect(pending.sealed).not.toContain(secret);
    // Bound to its change: another change's record does not open it.
    expect(await t.half.page({ ...t.ctx(), uid: 'change-2' }, t.accounts.state.account, pending)).toBeUndefined();
    expect(t.totp.rows.size).toBe(0);
  });

  it('counts the app only after one right code from it, and that code does not sign in as well', async () => {
    const t = enrolment();
    const account = t.accounts.state.account;
    const pending = t.half.start(t.ctx(), account);
    const secret = (await t.half.page(t.ctx(), account, pending))!.secret.replaceAll(' ', '');
    const bad = await t.half.confirm(t.ctx(), account, pending, wrong(codeAt(START, secret)));
    expect(bad).toEqual({ ok: false, reason: 'code', lockedNow: false });
    expect(t.half.notice(bad as typeof bad & { ok: false })).toEqual({ message: 'TOTP_INCORRECT' });
    expect(t.accounts.state.account.failedOtpCount).toBe(1);
    expect(t.totp.rows.size).toBe(0);

    expect(await t.half.confirm(t.ctx(), t.accounts.state.account, pending, codeAt(START, secret))).toEqual({ ok: true });
    const row = t.totp.rows.get(account.id)!;
    expect(row.sealedSecret).not.toContain(secret);
    expect(await t.half.status(account.id)).toEqual({ addedAt: new Date(START), lastUsedAt: null });
    expect(t.events.map((e) => e.event)).toEqual(['account.totp_verify', 'account.totp_added']);
    // The confirming code's step is used up: signing in needs the next one.
    expect(await t.submit({ action: 'verify', code: codeAt(START, secret) })).toEqual({ kind: 'retry', message: 'TOTP_INCORRECT' });
    t.clock.advance(30);
    expect(await t.submit({ action: 'verify', code: codeAt(t.clock.now().getTime(), secret) })).toMatchObject({ kind: 'passed' });
  });

  it('confirms nothing on a locked account, and removes the app with an audit record', async () => {
    const locked = enrolment({ account: { otpLockedUntil: new Date(START + 60_000), failedOtpCount: 3 } });
    const pending = locked.half.start(locked.ctx(), locked.accounts.state.account);
    expect(await locked.half.confirm(locked.ctx(), locked.accounts.state.account, pending, '000000')).toEqual({ ok: false, reason: 'locked' });
    expect(locked.accounts.state.account.failedOtpCount).toBe(3);

    const t = setup();
    const half = totpEnrolment({ accounts: t.accounts.store, totp: t.totp.store, audit: t.audit, clock: t.clock, random: scriptedRandom(), totpKey: testOtpKey, serviceName: 'Keystep', settings: t.settings, notify: async () => {}, guardRemoval: removalGuard(async () => true, t.accounts.store, async (_id, work) => ({ ran: true as const, value: await work() })) });
    expect(await half.remove({ clientId: 'keystep-account', ip: null }, t.accounts.state.account)).toBe('removed');
    expect(await half.remove({ clientId: 'keystep-account', ip: null }, t.accounts.state.account)).toBe('none');
    expect(t.events).toMatchObject([{ event: 'account.totp_removed', accountId: t.accounts.state.account.id }]);
  });
});

describe('the chain with the authenticator app beside the SMS code', () => {
  // A stand-in for the SMS factor: enrolled with a number, answering at once as the real one does.
  const sms: Factor = {
    id: 'sms-otp', stage: 'second', amr: ['sms'], actions: ['verify'], offer: { action: 'sms', label: 'By SMS' }, enrolled: (a) => a.phone !== null,
    show: async () => ({ view: 'sms', model: {} }), submit: async () => ({ kind: 'failed', message: 'SERVER_ERROR' }),
  };
  const password: Factor = { ...sms, id: 'password', stage: 'first', amr: ['pwd'], offer: undefined as never, enrolled: () => true };
  const noPolicy = { mfaRequested: false, clientMfa: null };

  async function nextFor(t: ReturnType<typeof setup>, account: Account) {
    const chain = loginChain([password, t.factor, sms], { mandatory: false, enableByUserClaim: false });
    const flow = { ...blankFlow('u'), accountId: account.id, passed: ['password'], amr: ['pwd'] };
    const next = await chain.next(loginContext({ uid: 'u', clientId: 'app', ip: null, policy: noPolicy }, flow, { findById: async () => account }));
    return { next: next.kind === 'step' ? { id: next.factor.id, offers: next.alternatives.map((o) => o.action) } : next.kind, needed: await chain.secondFactorNeeded(account, noPolicy) };
  }

  it('asks an account with both for the app first and offers the SMS code, asks each factor once, and leaves an SMS-only account as it was', async () => {
    const both = setup();
    expect(await nextFor(both, both.accounts.state.account)).toEqual({ next: { id: 'totp', offers: ['sms'] }, needed: true });
    // Whether the account has it came with the account: no read of the store to decide.
    expect(both.totp.calls.find).toBe(0);
    const onlyApp = setup({ account: { phone: null, phoneVerifiedAt: null } });
    // No number: nothing to offer beside the app, and the app alone makes a second factor needed.
    expect(await nextFor(onlyApp, onlyApp.accounts.state.account)).toEqual({ next: { id: 'totp', offers: [] }, needed: true });
    const onlySms = setup({ enrolled: false });
    expect(await nextFor(onlySms, onlySms.accounts.state.account)).toEqual({ next: { id: 'sms-otp', offers: [] }, needed: true });
    const neither = setup({ enrolled: false, account: { phone: null, phoneVerifiedAt: null } });
    expect(await nextFor(neither, neither.accounts.state.account)).toEqual({ next: 'done', needed: false });
  });
});
