import { describe, expect, it } from 'vitest';
import { acrFor, amrFor, LoginChain, markPassed } from '../../src/login/chain.ts';
import type { LoginState, LoginStep } from '../../src/login/types.ts';

const step = (id: LoginStep['id'], applies = true): LoginStep => ({
  id, appliesTo: () => applies, show: async () => ({ view: id, model: {} }), submit: async () => ({ kind: 'failed', message: 'SERVER_ERROR' }),
});
const state: LoginState = { uid: 'u', clientId: 'c', ip: null, accountId: null, passed: [], amr: [], data: {}, policy: { mfaRequested: false, clientMfa: null } };

describe('the login chain', () => {
  it('picks the first step that applies and has not passed', async () => {
    const chain = new LoginChain([step('password'), step('phone-capture', false), step('sms-otp')]);
    expect((await chain.next(state))?.id).toBe('password');
    const afterPassword = markPassed(state, 'password', 'acc', ['pwd']);
    expect((await chain.next(afterPassword))?.id).toBe('sms-otp');
    expect(await chain.next(markPassed(afterPassword, 'sms-otp', 'acc', ['sms']))).toBeUndefined();
  });

  it('adds mfa once two distinct factors passed and names the acr', () => {
    expect(amrFor(['pwd'])).toEqual(['pwd']);
    expect(amrFor(['pwd', 'sms'])).toEqual(['pwd', 'sms', 'mfa']);
    expect(amrFor(['pwd', 'pwd'])).toEqual(['pwd']);
    expect(acrFor(['pwd'])).toBe('urn:keystep:acr:pwd');
    expect(acrFor(['pwd', 'sms', 'mfa'])).toBe('urn:keystep:acr:mfa');
  });
});
