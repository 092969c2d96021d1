import { describe, expect, it } from 'vitest';
import { acrFor, amrFor, LoginChain, markPassed } from '../../src/login/chain.ts';
import type { Account, AccountStore } from '../../src/login/ports.ts';
import { requestAccount } from '../../src/login/request-account.ts';
import type { LoginState, LoginStep } from '../../src/login/types.ts';

const step = (id: LoginStep['id'], applies = true): LoginStep => ({
  id, appliesTo: () => applies, show: async () => ({ view: id, model: {} }), submit: async () => ({ kind: 'failed', message: 'SERVER_ERROR' }),
});
const state: LoginState = { uid: 'u', clientId: 'c', ip: null, accountId: null, accountSignOuts: null, passed: [], amr: [], data: {}, policy: { mfaRequested: false, clientMfa: null } };

describe('the login chain', () => {
  it('picks the first step that applies and has not passed', async () => {
    const chain = new LoginChain([step('password'), step('phone-capture', false), step('sms-otp')]);
    expect((await chain.next(state))?.id).toBe('password');
    const afterPassword = markPassed(state, 'password', { kind: 'passed', accountId: 'acc', amr: ['pwd'] });
    expect((await chain.next(afterPassword))?.id).toBe('sms-otp');
    expect(await chain.next(markPassed(afterPassword, 'sms-otp', { kind: 'passed', accountId: 'acc', amr: ['sms'] }))).toBeUndefined();
  });

  it('keeps the step data, drops the last message and adds what the pass brings', () => {
    const before = { ...state, data: { username: 'ada', flash: { message: 'CODE_INCORRECT' } } };
    const next = markPassed(before, 'password', { kind: 'passed', accountId: 'acc', amr: ['pwd'], data: { choice: 'x' } });
    expect(next).toMatchObject({ accountId: 'acc', passed: ['password'], amr: ['pwd'], data: { username: 'ada', choice: 'x' } });
    expect(next.data).not.toHaveProperty('flash');
  });

  it('hands the account a step read on to the next state, so this request reads it once', async () => {
    const account = { id: 'acc', username: 'ada' } as Account;
    const reads: string[] = [];
    const store = { findById: async (id: string) => { reads.push(id); return account; } } as AccountStore;
    const next = markPassed(state, 'password', { kind: 'passed', accountId: 'acc', amr: ['pwd'], account });
    expect(await requestAccount(next, store)).toBe(account);
    expect(reads).toEqual([]);
    // Without one handed on, it is read once per state.
    const other = markPassed(state, 'password', { kind: 'passed', accountId: 'acc', amr: ['pwd'] });
    await requestAccount(other, store);
    await requestAccount(other, store);
    expect(reads).toEqual(['acc']);
  });

  it('adds mfa once two distinct factors passed and names the acr', () => {
    expect(amrFor(['pwd'])).toEqual(['pwd']);
    expect(amrFor(['pwd', 'sms'])).toEqual(['pwd', 'sms', 'mfa']);
    expect(amrFor(['pwd', 'pwd'])).toEqual(['pwd']);
    expect(acrFor(['pwd'])).toBe('urn:keystep:acr:pwd');
    expect(acrFor(['pwd', 'sms', 'mfa'])).toBe('urn:keystep:acr:mfa');
  });
});
