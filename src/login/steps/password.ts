import { addSeconds, type Clock } from '../../shared/clock.ts';
import type { PasswordHasher } from '../passwords.ts';
import type { AccountStore, AuditLog, PasswordFailures, PasswordFailureStore } from '../ports.ts';
import type { LoginState, LoginStep, StepOutcome } from '../types.ts';

export interface PasswordStepPolicy {
  throttleAfter: number;
  maxDelaySeconds: number;
  lockAfter: number;
  lockSeconds: number;
  maxLength: number;
}

interface Deps {
  accounts: AccountStore;
  failures: PasswordFailureStore;
  hasher: PasswordHasher;
  audit: AuditLog;
  clock: Clock;
  policy: PasswordStepPolicy;
}

/** The key wrong passwords are counted under: the username as the login form matches it. */
export function usernameKey(username: string): string {
  return username.trim().toLowerCase().slice(0, 256);
}

/** Seconds until the next try is allowed, growing with each wrong password past throttleAfter. */
export function throttleWait(failures: number, lastFailure: Date | null, now: Date, policy: PasswordStepPolicy): number {
  if (failures < policy.throttleAfter || !lastFailure) return 0;
  const delay = Math.min(2 ** (failures - policy.throttleAfter), policy.maxDelaySeconds);
  return Math.max(0, Math.ceil((lastFailure.getTime() + delay * 1000 - now.getTime()) / 1000));
}

export function createPasswordStep({ accounts, failures, hasher, audit, clock, policy }: Deps): LoginStep {
  const event = (state: LoginState, result: 'success' | 'failure', accountId: string | null, reason?: string) =>
    audit.record({
      event: 'login.password', step: 'password', result, accountId, reason,
      clientId: state.clientId, flowUid: state.uid, ip: state.ip,
    });

  const lockedFor = (until: Date, now: Date): StepOutcome => ({
    kind: 'retry', message: 'ACCOUNT_LOCKED', params: { minutes: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000)) },
  });

  /**
   * Refusals that come before any hashing. They depend only on the username's count of wrong
   * passwords, kept for every username tried, so they look the same for a real and an unknown user.
   */
  async function refusal(key: string, now: Date): Promise<{ outcome?: StepOutcome; reason?: string; counted: boolean }> {
    let record: PasswordFailures | undefined = await failures.find(key);
    if (record?.lockedUntil && record.lockedUntil <= now) {
      // A lock that ran out starts the count afresh instead of re-locking on the next mistake.
      await failures.clear(key);
      record = undefined;
    }
    if (!record) return { counted: false };
    if (record.lockedUntil) return { outcome: lockedFor(record.lockedUntil, now), reason: 'locked', counted: true };
    const wait = throttleWait(record.failures, record.lastFailureAt, now, policy);
    if (wait > 0) return { outcome: { kind: 'retry', message: 'PASSWORD_THROTTLED', params: { seconds: wait } }, reason: 'throttled', counted: true };
    return { counted: true };
  }

  return {
    id: 'password',
    appliesTo: () => true,

    async show(state) {
      return { view: 'password', model: { username: typeof state.data.username === 'string' ? state.data.username : '' } };
    },

    async submit(state, form): Promise<StepOutcome> {
      const username = (form.username ?? '').trim();
      const password = form.password ?? '';
      const keep = { username: username.slice(0, 256) };
      if (!username || !password) return { kind: 'retry', message: 'CREDENTIALS_MISSING', data: keep };

      const now = clock.now();
      const key = usernameKey(username);
      const refused = await refusal(key, now);
      const account = username.length <= 256 ? await accounts.findByUsername(username) : undefined;
      if (refused.outcome) {
        await event(state, 'failure', account?.id ?? null, refused.reason);
        return { ...refused.outcome, data: keep } as StepOutcome;
      }

      // An unknown user costs the same hash as a wrong password, so time does not tell them apart.
      const tooLong = [...password].length > policy.maxLength;
      const ok = account && !tooLong
        ? await hasher.verify(account.passwordHash, password)
        : (await hasher.verifyDummy(tooLong ? '' : password), false);

      if (!ok || !account) {
        const count = await failures.record(key, now, policy.lockAfter, addSeconds(now, policy.lockSeconds));
        await event(state, 'failure', account?.id ?? null, account ? 'wrong_password' : 'unknown_user');
        if (count >= policy.lockAfter) {
          await audit.record({ event: 'login.locked', step: 'password', result: 'info', accountId: account?.id ?? null, reason: 'password_failures', flowUid: state.uid, ip: state.ip });
          return { ...lockedFor(addSeconds(now, policy.lockSeconds), now), data: keep } as StepOutcome;
        }
        return { kind: 'retry', message: 'CREDENTIALS_INCORRECT', data: keep };
      }
      if (account.disabled) {
        await event(state, 'failure', account.id, 'disabled');
        return { kind: 'retry', message: 'ACCOUNT_DISABLED', data: keep };
      }
      if (refused.counted) await failures.clear(key);
      await event(state, 'success', account.id);
      return { kind: 'passed', accountId: account.id, amr: ['pwd'], account };
    },
  };
}
