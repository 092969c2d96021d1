import { describe, expect, it } from 'vitest';
import { loginChain } from '../../../src/login/chain.ts';
import { loginContext } from '../../../src/login/context.ts';
import type { Factor, LoginPolicy } from '../../../src/login/factor.ts';
import { resolveAccount, usernameOf, verifiedMobile } from '../../../src/login/factors/federated/accounts.ts';
import type { FederatedAccounts, UpstreamProvider } from '../../../src/login/factors/federated/ports.ts';
import { blankFlow } from '../../../src/login/flow.ts';
import type { Account } from '../../../src/login/ports.ts';
import { anAccount } from '../../support/login-fakes.ts';

const acme: UpstreamProvider = { name: 'acme', displayName: 'Acme SSO', issuer: 'https://sso.acme.example', usecase: 'local', userAttribute: undefined, domains: ['primary'], mobileClaim: undefined, jit: false };

describe('finding the local account of an upstream identity', () => {
  it('reads the usecase\'s claim: a string only, a flagged claim only when verified', () => {
    expect(usernameOf(acme, 's', { preferred_username: 'alice' })).toBe('alice');
    expect(usernameOf(acme, 's', { preferred_username: null })).toBeUndefined();
    expect(usernameOf(acme, 's', { preferred_username: 42 })).toBeUndefined();
    expect(usernameOf(acme, 's', { preferred_username: '   ' })).toBeUndefined();
    const byEmail = { ...acme, usecase: 'userAttribute' as const, userAttribute: 'email' };
    expect(usernameOf(byEmail, 's', { email: 'a@x.example', email_verified: true })).toBe('a@x.example');
    expect(usernameOf(byEmail, 's', { email: 'a@x.example', email_verified: false })).toBeUndefined();
    expect(usernameOf(byEmail, 's', { email: 'a@x.example', email_verified: 'true' })).toBeUndefined();
    // No flag for this claim at that provider: taken as it is.
    expect(usernameOf({ ...byEmail, userAttribute: 'upn' }, 's', { upn: 'alice' })).toBe('alice');
    expect(usernameOf({ ...acme, usecase: 'subjectUri' }, 'bob', {})).toBe('bob');
    expect(usernameOf({ ...acme, usecase: 'association' }, 'bob', { preferred_username: 'alice' })).toBeUndefined();
  });

  it('takes an upstream number only when its flag is exactly true', () => {
    const withMobile = { ...acme, mobileClaim: 'phone_number' };
    expect(verifiedMobile(withMobile, { phone_number: '+447400123456', phone_number_verified: true })).toBe('+447400123456');
    expect(verifiedMobile(withMobile, { phone_number: '+447400123456', phone_number_verified: 'true' })).toBeNull();
    expect(verifiedMobile(withMobile, { phone_number: '+447400123456' })).toBeNull();
    expect(verifiedMobile(withMobile, { phone_number: 'call me', phone_number_verified: true })).toBeNull();
    expect(verifiedMobile(acme, { phone_number: '+447400123456', phone_number_verified: true })).toBeNull();
  });

  function store(accounts: (Account & { domain: string })[], links: Record<string, string> = {}) {
    const made: unknown[] = [];
    const fake: FederatedAccounts = {
      findLinked: async (p, s) => accounts.find((a) => a.id === links[`${p}|${s}`]),
      findInDomain: async (d, u) => accounts.find((a) => a.domain === d && a.username === u),
      createLinked: async (input) => { made.push(input); return anAccount({ id: 'made', username: input.username }); },
      link: async () => 'linked',
      listFor: async () => [],
    };
    return { fake, made };
  }

  it('a link first, then the domains in order, then (jit) a new account in the first domain', async () => {
    const primaryAlice = anAccount({ id: 'p-alice', username: 'alice', domain: 'primary' });
    const partnerAlice = anAccount({ id: 'x-alice', username: 'alice', domain: 'partners' });
    const bob = anAccount({ id: 'bob', username: 'bob', domain: 'primary' });
    const { fake, made } = store([primaryAlice, partnerAlice, bob], { 'acme|linked': 'bob' });
    const inOrder = { ...acme, domains: ['partners', 'primary'] };
    expect(await resolveAccount(fake, inOrder, 'linked', { preferred_username: 'alice' })).toMatchObject({ found: true, account: { id: 'bob' } });
    expect(await resolveAccount(fake, inOrder, 's', { preferred_username: 'alice' })).toMatchObject({ found: true, account: { id: 'x-alice' } });
    expect(await resolveAccount(fake, { ...acme, domains: ['primary', 'partners'] }, 's', { preferred_username: 'alice' })).toMatchObject({ account: { id: 'p-alice' } });
    expect(await resolveAccount(fake, inOrder, 's', { preferred_username: 'carol' })).toEqual({ found: false, reason: 'not_linked' });
    expect(made).toEqual([]);
    await resolveAccount(fake, { ...inOrder, jit: true }, 's', { preferred_username: 'carol' });
    expect(made).toEqual([{ provider: 'acme', subject: 's', domain: 'partners', username: 'carol', phone: null, phoneUnique: false }]);
  });

  it('just in time: a verified upstream number that may not be used (verified elsewhere, a refused country) is not taken', async () => {
    const { fake, made } = store([]);
    const withMobile = { ...acme, jit: true, mobileClaim: 'phone_number' };
    const claims = { preferred_username: 'ivy', phone_number: '+447400123456', phone_number_verified: true };
    await resolveAccount(fake, withMobile, 's1', claims, { usable: async () => false, phoneUnique: true });
    await resolveAccount(fake, withMobile, 's2', claims, { usable: async () => true, phoneUnique: true });
    // The store checks again as it makes the account (a number verified elsewhere at the same moment).
    expect(made).toEqual([expect.objectContaining({ subject: 's1', phone: null }), expect.objectContaining({ subject: 's2', phone: '+447400123456', phoneUnique: true })]);
  });

  it('just in time without a usable name: named by provider and subject, never "null"', async () => {
    const { fake, made } = store([]);
    await resolveAccount(fake, { ...acme, jit: true }, 'sub-7', { preferred_username: null });
    expect(made).toEqual([expect.objectContaining({ username: 'acme.sub-7' })]);
  });
});

// Factors that only say who they are, as in the chain's own tests.
const stub = (id: string, stage: Factor['stage'], extra: Partial<Factor> = {}): Factor => ({
  id, stage, amr: [id], actions: [], enrolled: () => true, show: async () => ({ view: id, model: {} }), submit: async () => ({ kind: 'failed', message: 'SERVER_ERROR' }), ...extra,
});

describe('the chain\'s first stage with upstream providers', () => {
  const password = stub('password', 'first');
  const upstream = stub('federated', 'first', {
    secondStageUnlessOptional: true,
    starts: async (ctx) => (ctx.policy.firstSteps ?? []).filter((s) => s.startsWith('idp:')).map((s) => ({ action: s, label: `Continue with ${s.slice(4)}` })),
  });
  const sms = stub('sms', 'second', { enrolled: (a) => a.phone !== null });
  const account = anAccount({ phone: null, smsOtpExempt: true });
  const chain = loginChain([password, upstream, sms], { mandatory: false, enableByUserClaim: true });
  const next = (policy: LoginPolicy, passed: string[] = []) => chain.next(loginContext(
    { uid: 'u', clientId: 'app', ip: null, policy }, { ...blankFlow('u'), accountId: passed.length ? account.id : null, passed }, { findById: async () => account },
  ));

  it('offers password only by default; the providers the client names beside it; only them without password', async () => {
    expect(await next({ mfaRequested: false, clientMfa: null })).toMatchObject({ kind: 'step', factor: { id: 'password' }, alternatives: [] });
    expect(await next({ mfaRequested: false, clientMfa: null, firstSteps: ['password', 'idp:acme', 'idp:corp'] }))
      .toMatchObject({ factor: { id: 'password' }, alternatives: [{ action: 'idp:acme', factor: 'federated' }, { action: 'idp:corp', factor: 'federated' }] });
    expect(await next({ mfaRequested: false, clientMfa: null, firstSteps: ['idp:acme'] })).toMatchObject({ factor: { id: 'federated' }, alternatives: [{ action: 'idp:acme' }] });
    // Nothing it names exists any more: the password, rather than no way in.
    expect(await next({ mfaRequested: false, clientMfa: null, firstSteps: [] })).toMatchObject({ factor: { id: 'password' } });
  });

  it('after an upstream sign-in the second stage runs, even for an exempt account with nothing enrolled, unless the client is optional', async () => {
    expect(await next({ mfaRequested: false, clientMfa: null }, ['password'])).toEqual({ kind: 'done' });
    expect(await next({ mfaRequested: false, clientMfa: null }, ['federated'])).toMatchObject({ kind: 'unavailable' });
    expect(await next({ mfaRequested: false, clientMfa: 'optional' }, ['federated'])).toEqual({ kind: 'done' });
  });
});
