import { describe, expect, it } from 'vitest';
import { acrFor, amrFor, EARLIER_SIGN_IN, loginChain } from '../../src/login/chain.ts';
import { loginContext } from '../../src/login/context.ts';
import type { Factor, LoginPolicy } from '../../src/login/factor.ts';
import { blankFlow, type LoginFlow } from '../../src/login/flow.ts';
import type { Account } from '../../src/login/ports.ts';
import { anAccount } from '../support/login-fakes.ts';

// Factors that only say who they are: the chain's decisions depend on nothing else.
function factor(id: string, stage: Factor['stage'], options: Partial<Pick<Factor, 'role' | 'offer' | 'enrolled' | 'phishingResistant'>> = {}): Factor {
  return {
    id, stage, amr: [id], actions: [], enrolled: () => true,
    show: async () => ({ view: id, model: {} }), submit: async () => ({ kind: 'failed', message: 'SERVER_ERROR' }),
    ...options,
  };
}

const password = factor('password', 'first');
const sms = factor('sms', 'second', { offer: { action: 'sms', label: 'By SMS' }, enrolled: (a) => a.phone !== null });
const app = factor('app', 'second', { offer: { action: 'app', label: 'With the app' }, enrolled: (a) => a.username === 'has-app' });
const capture = factor('capture', 'second', { role: 'enrol' });
const backup = factor('backup', 'second', { role: 'fallback', offer: { action: 'backup', label: 'A backup code' } });
const passkey = factor('passkey', 'second', { phishingResistant: true, offer: { action: 'passkey', label: 'A passkey' }, enrolled: (a) => a.factors.some((f) => f.id === 'passkey') });

const settings = { mandatory: false, enableByUserClaim: true };
const noPolicy: LoginPolicy = { mfaRequested: false, clientMfa: null };

function contextOf(flow: LoginFlow, account: Account, policy = noPolicy) {
  const accounts = { findById: async (id: string) => (id === account.id ? account : undefined) };
  return loginContext({ uid: flow.uid, clientId: 'app', ip: null, policy }, flow, accounts);
}

const afterPassword = (account: Account, extra: Partial<LoginFlow> = {}): LoginFlow =>
  ({ ...blankFlow('u'), accountId: account.id, accountSignOuts: account.signOuts, passed: ['password'], amr: ['pwd'], ...extra });

async function nextOf(factors: Factor[], flow: LoginFlow, account: Account, policy = noPolicy) {
  const next = await loginChain(factors, settings).next(contextOf(flow, account, policy));
  return next.kind === 'step' ? { id: next.factor.id, offers: next.alternatives.map((o) => o.action) } : { kind: next.kind, offers: 'alternatives' in next ? next.alternatives.map((o) => o.action) : [] };
}

describe('the login chain', () => {
  const withPhone = anAccount();
  const noPhone = anAccount({ phone: null, phoneVerifiedAt: null });

  it('starts with the first stage, then the first enrolled second factor, offering the others of the stage', async () => {
    const factors = [password, sms, app, backup];
    expect(await nextOf(factors, blankFlow('u'), withPhone)).toEqual({ id: 'password', offers: [] });
    expect(await nextOf(factors, afterPassword(withPhone), withPhone)).toEqual({ id: 'sms', offers: ['backup'] });
    expect(await nextOf(factors, afterPassword(anAccount({ username: 'has-app' })), anAccount({ username: 'has-app' }))).toEqual({ id: 'sms', offers: ['app', 'backup'] });
  });

  it('offers first the factor used last, then by when each was added, then those without a record in the registry order', async () => {
    const key = factor('key', 'second', { offer: { action: 'key', label: 'A passkey' }, enrolled: (a) => a.factors.some((f) => f.id === 'key') });
    const factors = [password, key, app, sms, backup];
    const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute));
    const record = (id: string, enrolled: number, used: number | null) => ({ id, enrolledAt: at(enrolled), lastUsedAt: used === null ? null : at(used) });
    const order = async (records: Account['factors']) => {
      const account = anAccount({ username: 'has-app', factors: records });
      const next = await nextOf(factors, afterPassword(account), account);
      return [next.id, ...(next.offers as string[])];
    };
    // No record of use: the registry's order (the SMS code has no row until its first use is noted).
    expect(await order([record('key', 1, null)])).toEqual(['key', 'app', 'sms', 'backup']);
    // The SMS code used last comes first; the others keep their order after it.
    expect(await order([record('key', 1, 5), record('sms', 2, 9)])).toEqual(['sms', 'key', 'app', 'backup']);
    expect(await order([record('key', 1, 9), record('sms', 2, 5)])).toEqual(['key', 'sms', 'app', 'backup']);
    // A factor just added, not used yet, counts from when it was added.
    expect(await order([record('key', 1, 5), record('sms', 2, 6), record('app', 7, null)])).toEqual(['app', 'sms', 'key', 'backup']);
    // A record of a factor the account no longer has changes nothing; a fallback is never first.
    expect(await order([record('backup', 1, 50)])).toEqual(['app', 'sms', 'backup']);
  });

  it('runs the chosen factor of the stage, and offers the one it replaced', async () => {
    const flow = afterPassword(withPhone, { data: { slots: {}, choice: 'backup' } });
    expect(await nextOf([password, sms, backup], flow, withPhone)).toEqual({ id: 'backup', offers: ['sms'] });
    // A choice the account cannot use is not followed.
    expect(await nextOf([password, sms, backup], afterPassword(noPhone, { data: { slots: {}, choice: 'sms' } }), noPhone, { ...noPolicy, clientMfa: 'required' }))
      .toEqual({ kind: 'unavailable', offers: ['backup'] });
  });

  it('enrols an account with no second factor when one is needed, with the fallbacks offered', async () => {
    const required = { ...noPolicy, clientMfa: 'required' as const };
    expect(await nextOf([password, sms, capture, backup], afterPassword(noPhone), noPhone, required)).toEqual({ id: 'capture', offers: ['backup'] });
    expect(await nextOf([password, sms, backup], afterPassword(noPhone), noPhone, required)).toEqual({ kind: 'unavailable', offers: ['backup'] });
  });

  it('asks for a second factor by the policy: the request, the client, the account, the exemption, the default', async () => {
    const chain = loginChain([password, sms, backup], settings);
    expect(await chain.secondFactorNeeded(withPhone, noPolicy)).toBe(true);
    // Backup codes alone do not make a second factor needed.
    expect(await chain.secondFactorNeeded(noPhone, noPolicy)).toBe(false);
    expect(await chain.secondFactorNeeded(noPhone, { mfaRequested: true, clientMfa: null })).toBe(true);
    expect(await chain.secondFactorNeeded(withPhone, { mfaRequested: false, clientMfa: 'optional' })).toBe(true);
    expect(await chain.secondFactorNeeded(anAccount({ smsOtpExempt: true }), noPolicy)).toBe(false);
    expect(await chain.secondFactorNeeded(anAccount({ smsOtpExempt: true }), { mfaRequested: false, clientMfa: 'required' })).toBe(true);
    expect(await loginChain([password, sms], { ...settings, mandatory: true }).secondFactorNeeded(noPhone, noPolicy)).toBe(true);
    expect(await loginChain([password, sms], { ...settings, mandatory: true }).secondFactorNeeded(noPhone, { mfaRequested: false, clientMfa: 'optional' })).toBe(false);
    expect(await nextOf([password, sms, backup], afterPassword(noPhone), noPhone)).toEqual({ kind: 'done', offers: [] });
  });

  it('is done once a second-stage factor passed, and switches only to what the page offered', async () => {
    const chain = loginChain([password, sms, backup], settings);
    const ctx = contextOf(afterPassword(withPhone), withPhone);
    const next = await chain.next(ctx);
    expect(chain.switchTarget(next, 'backup')).toBe('backup');
    expect(chain.switchTarget(next, 'sms')).toBeUndefined();
    expect(chain.switchTarget(next, undefined)).toBeUndefined();
    expect((await chain.next(contextOf(afterPassword(withPhone, { passed: ['password', 'backup'] }), withPhone))).kind).toBe('done');
  });

  it('records a pass: the factor, its amr with mfa, the first stage\'s sign-out count; drops the message and the choice', () => {
    const chain = loginChain([password, sms, backup], settings);
    const flow = { ...blankFlow('u'), data: { slots: { password: { username: 'ada' } }, flash: { message: 'CREDENTIALS_INCORRECT' }, choice: 'x' } };
    const first = chain.passed(flow, password, { kind: 'passed', account: anAccount({ signOuts: 4 }), slot: null });
    expect(first).toMatchObject({ accountId: withPhone.id, accountSignOuts: 4, passed: ['password'], amr: ['password'], data: { slots: {} } });
    expect(first.data.flash).toBeUndefined();
    expect(first.data.choice).toBeUndefined();
    const second = chain.passed(first, sms, { kind: 'passed', account: anAccount({ signOuts: 5 }), notice: { message: 'BACKUP_CODES_LEFT' } });
    expect(second).toMatchObject({ accountSignOuts: 4, passed: ['password', 'sms'], amr: ['password', 'sms', 'mfa'], data: { notice: { message: 'BACKUP_CODES_LEFT' } } });
  });

  it('starts a step-up with the first stage passed by the session\'s earlier sign-in', async () => {
    const chain = loginChain([password, sms, backup], settings);
    // An earlier passkey is not carried over: this login's own second factor decides the level.
    expect(chain.steppingUp(blankFlow('u'), withPhone, ['pwd', 'hwk', 'mfa']).amr).toEqual(['pwd']);
    const stepped = chain.steppingUp(blankFlow('u'), withPhone, ['pwd', 'mfa']);
    expect(stepped).toMatchObject({ passed: [EARLIER_SIGN_IN], amr: ['pwd'], accountId: withPhone.id, accountSignOuts: withPhone.signOuts });
    expect(await nextOf([password, sms, backup], stepped, withPhone, { ...noPolicy, mfaRequested: true })).toEqual({ id: 'sms', offers: ['backup'] });
  });

  it('signs in afresh a continued login that no longer needs a second factor, rather than finish with nothing proven', async () => {
    const stepped = loginChain([password, sms, backup], settings).steppingUp(blankFlow('u'), noPhone, ['pwd']);
    expect(await nextOf([password, sms, backup], stepped, noPhone)).toEqual({ id: 'password', offers: [] });
    // A login whose first stage was passed here is done when no second factor is needed.
    expect(await nextOf([password, sms, backup], afterPassword(noPhone), noPhone)).toEqual({ kind: 'done', offers: [] });
  });

  it('reads the account once per request, and not at all when the factor that passed handed it on', async () => {
    let reads = 0;
    const accounts = { findById: async () => { reads++; return withPhone; } };
    const ctx = loginContext({ uid: 'u', clientId: 'app', ip: null, policy: noPolicy }, afterPassword(withPhone), accounts);
    await ctx.account();
    await ctx.account();
    expect(reads).toBe(1);
    await loginContext({ uid: 'u', clientId: 'app', ip: null, policy: noPolicy }, afterPassword(withPhone), accounts, withPhone).account();
    expect(reads).toBe(1);
  });

  it('adds mfa once two distinct factors passed and names the acr', () => {
    expect(amrFor(['pwd'])).toEqual(['pwd']);
    expect(amrFor(['pwd', 'sms'])).toEqual(['pwd', 'sms', 'mfa']);
    expect(amrFor(['pwd', 'pwd'])).toEqual(['pwd']);
    expect(acrFor(['pwd'])).toBe('urn:keystep:acr:pwd');
    expect(acrFor(['pwd', 'sms', 'mfa'])).toBe('urn:keystep:acr:mfa');
  });

  describe('phishing resistance', () => {
    const phr: LoginPolicy = { ...noPolicy, phishingResistant: true };
    const withPasskey = anAccount({ factors: [{ id: 'passkey', enrolledAt: new Date(0), lastUsedAt: null }] });
    const all = [password, sms, app, passkey, capture, backup];

    it('names the phr acr for a passkey (hwk or swk) after the password, mfa for other second factors', () => {
      expect(acrFor(amrFor(['pwd', 'hwk']))).toBe('urn:keystep:acr:phr');
      expect(acrFor(amrFor(['pwd', 'swk']))).toBe('urn:keystep:acr:phr');
      expect(acrFor(amrFor(['pwd', 'sms', 'hwk']))).toBe('urn:keystep:acr:phr');
      expect(acrFor(amrFor(['pwd', 'otp']))).toBe('urn:keystep:acr:mfa');
    });

    it('offers only phishing-resistant factors, as candidates and alternatives, to an account that has them', async () => {
      expect(await nextOf(all, afterPassword(withPasskey), withPasskey)).toEqual({ id: 'sms', offers: ['passkey', 'backup'] });
      expect(await nextOf(all, afterPassword(withPasskey), withPasskey, phr)).toEqual({ id: 'passkey', offers: [] });
      // A choice posted for another factor (an older page) does not pick it.
      expect(await nextOf(all, afterPassword(withPasskey, { data: { slots: {}, choice: 'sms' } }), withPasskey, phr)).toEqual({ id: 'passkey', offers: [] });
    });

    it('needs the second factor even for an exempt account, and another second factor does not pass the stage', async () => {
      const exempt = anAccount({ smsOtpExempt: true, factors: withPasskey.factors });
      expect(await loginChain(all, settings).secondFactorNeeded(exempt, phr)).toBe(true);
      const afterSms = afterPassword(withPasskey, { passed: ['password', 'sms'], amr: ['pwd', 'sms', 'mfa'] });
      expect(await nextOf(all, afterSms, withPasskey)).toEqual({ kind: 'done', offers: [] });
      expect(await nextOf(all, afterSms, withPasskey, phr)).toEqual({ id: 'passkey', offers: [] });
    });

    it('is unavailable, saying why, to an account without a passkey: no SMS, enrolment or backup code instead', async () => {
      const next = await loginChain(all, settings).next(contextOf(afterPassword(withPhone), withPhone, phr));
      expect(next).toEqual({ kind: 'unavailable', alternatives: [], message: 'NO_PHISHING_RESISTANT_FACTOR' });
      expect(await loginChain(all, settings).next(contextOf(afterPassword(noPhone), noPhone, { ...noPolicy, clientMfa: 'required' })))
        .toMatchObject({ kind: 'step', factor: { id: 'capture' } });
      expect(await loginChain([password, sms, backup], settings).next(contextOf(afterPassword(noPhone), noPhone, { ...noPolicy, clientMfa: 'required' })))
        .toEqual({ kind: 'unavailable', alternatives: [{ action: 'backup', label: 'A backup code' }], message: 'NO_SECOND_FACTOR' });
    });
  });
});
