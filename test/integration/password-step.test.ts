import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PasswordHasher } from '../../src/login/passwords.ts';
import type { Account, AccountStore, AuditEvent } from '../../src/login/ports.ts';
import { passwordFactor, throttleWait, usernameKey } from '../../src/login/factors/password/factor.ts';
import { passwordFailureRepository } from '../../src/repositories/password-failures.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { factorContext } from '../support/login-fakes.ts';

const policy = { throttleAfter: 3, maxDelaySeconds: 60, lockAfter: 6, lockSeconds: 900, maxLength: 64 };

let database: TestDatabase;
beforeAll(async () => { database = await createTestDatabase(); });
afterAll(() => database.drop());

// The counts of wrong passwords are real rows; the account and the hasher are stand-ins so the
// tests can count hashes and change the account.
async function setup() {
  let now = new Date('2026-01-01T00:00:00Z');
  const account: Account = {
    id: '00000000-0000-0000-0000-000000000001', domain: 'primary', username: 'dana', passwordHash: 'hash:right-password', phone: null, phoneVerifiedAt: null,
    smsOtpExempt: false, disabled: false, failedOtpCount: 0, otpLockedUntil: null, signOuts: 0, createdAt: now, factors: [],
  };
  const accounts: AccountStore = {
    findByUsername: async (u) => (u.toLowerCase() === 'dana' ? { ...account } : undefined),
    findInDomain: async () => { throw new Error('the password step looks up typed names'); },
    findById: async () => ({ ...account }),
    findIdsByVerifiedPhone: async () => { throw new Error('not used by the password step'); },
    setPhone: async () => { throw new Error('not used by the password step'); },
    saveVerifiedPhone: async () => { throw new Error('not used by the password step'); },
    replacePasswordHash: async (_id, expected, next) => {
      if (account.passwordHash !== expected) return false;
      account.passwordHash = next;
      return true;
    },
    reserveOtpAttempt: async () => { throw new Error('not used by the password step'); },
    clearOtpFailures: async () => { throw new Error('not used by the password step'); },
  };
  const failures = passwordFailureRepository(database.db);
  await database.db.deleteFrom('password_failures').execute();
  const calls = { verify: 0, dummy: 0 };
  const hasher: PasswordHasher = {
    hash: async (p) => `hash:${p}`,
    verify: async (h, p) => { calls.verify++; return h === `hash:${p}`; },
    verifyDummy: async () => { calls.dummy++; },
  };
  const events: AuditEvent[] = [];
  const step = passwordFactor({ accounts, passwordFailures: failures, hasher, audit: { record: async (e) => { events.push(e); } }, clock: { now: () => now }, settings: { password: policy } });
  const state = factorContext<{ username: string }>({ uid: 'uid-1', clientId: 'app', ip: '127.0.0.1' });
  return { step, state, account, failures, calls, events, advance: (seconds: number) => { now = new Date(now.getTime() + seconds * 1000); } };
}

describe('the password step', () => {
  it('passes with the right password and proves pwd', async () => {
    const { step, state, account, events } = await setup();
    const outcome = await step.submit(state, { username: 'Dana', password: 'right-password' });
    // The account it read goes with the pass, so the next step does not read it again.
    expect(outcome).toEqual({ kind: 'passed', account, slot: null });
    expect(events.at(-1)).toMatchObject({ event: 'login.password', result: 'success', accountId: account.id });
  });

  it('spends one verification for an unknown user, as for a known one', async () => {
    const { step, state, calls, events } = await setup();
    const outcome = await step.submit(state, { username: 'nobody', password: 'whatever-password' });
    expect(outcome).toMatchObject({ kind: 'retry', message: 'CREDENTIALS_INCORRECT' });
    expect(calls).toEqual({ verify: 0, dummy: 1 });
    expect(events.at(-1)).toMatchObject({ result: 'failure', reason: 'unknown_user', accountId: null });
    expect(JSON.stringify(events)).not.toContain('whatever-password');
  });

  it('throttles with a doubling wait after throttleAfter failures, refusing before hashing', async () => {
    const { step, state, calls, advance } = await setup();
    for (let i = 0; i < 3; i++) await step.submit(state, { username: 'dana', password: 'wrong' });
    expect(calls.verify).toBe(3);
    const throttled = await step.submit(state, { username: 'dana', password: 'right-password' });
    expect(throttled).toMatchObject({ kind: 'retry', message: 'PASSWORD_THROTTLED', params: { seconds: 1 } });
    expect(calls.verify).toBe(3);
    advance(1);
    await step.submit(state, { username: 'dana', password: 'wrong' });
    expect(await step.submit(state, { username: 'dana', password: 'wrong' })).toMatchObject({ message: 'PASSWORD_THROTTLED', params: { seconds: 2 } });
    advance(2);
    expect(await step.submit(state, { username: 'dana', password: 'right-password' })).toMatchObject({ kind: 'passed' });
  });

  it('throttles and locks an unknown username exactly like a real one', async () => {
    const { step, state, advance } = await setup();
    const answers = async (username: string) => {
      const out: unknown[] = [];
      for (let i = 0; i < 7; i++) {
        out.push(await step.submit(state, { username, password: 'wrong' }));
        advance(0.5);
      }
      advance(3600);
      return out.map((o) => JSON.stringify({ ...(o as object), slot: undefined }));
    };
    expect(await answers('nobody')).toEqual(await answers('dana'));
  });

  it('locks after lockAfter failures, and the lock ends by itself', async () => {
    const { step, state, failures, advance, events } = await setup();
    let last;
    for (let i = 0; i < 6; i++) {
      advance(120);
      last = await step.submit(state, { username: 'dana', password: 'wrong' });
    }
    expect(last).toMatchObject({ kind: 'retry', message: 'ACCOUNT_LOCKED', params: { minutes: 15 } });
    expect(events.filter((e) => e.event === 'login.locked')).toHaveLength(1);
    advance(60);
    expect(await step.submit(state, { username: 'dana', password: 'right-password' })).toMatchObject({ message: 'ACCOUNT_LOCKED', params: { minutes: 14 } });
    advance(900);
    expect(await step.submit(state, { username: 'dana', password: 'right-password' })).toMatchObject({ kind: 'passed' });
    expect(await failures.find(usernameKey('dana'))).toBeUndefined();
  });

  it('refuses a disabled account only after the right password', async () => {
    const { step, state, account } = await setup();
    account.disabled = true;
    expect(await step.submit(state, { username: 'dana', password: 'wrong' })).toMatchObject({ message: 'CREDENTIALS_INCORRECT' });
    expect(await step.submit(state, { username: 'dana', password: 'right-password' })).toMatchObject({ message: 'ACCOUNT_DISABLED' });
  });

  it('does not hash absurdly long input against the account', async () => {
    const { step, state, calls } = await setup();
    expect(await step.submit(state, { username: 'dana', password: 'x'.repeat(10_000) })).toMatchObject({ message: 'CREDENTIALS_INCORRECT' });
    expect(calls).toEqual({ verify: 0, dummy: 1 });
  });

  it('computes the throttle wait', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(throttleWait(2, at, at, policy)).toBe(0);
    expect(throttleWait(3, at, at, policy)).toBe(1);
    expect(throttleWait(5, at, at, policy)).toBe(4);
    expect(throttleWait(20, at, at, policy)).toBe(60);
    expect(throttleWait(5, at, new Date(at.getTime() + 4000), policy)).toBe(0);
  });
});
