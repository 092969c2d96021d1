import { addSeconds, type Clock } from '../../shared/clock.ts';
import type { PasswordHasher } from '../passwords.ts';
import type { AccountStore, AuditLog } from '../ports.ts';
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
  hasher: PasswordHasher;
  audit: AuditLog;
  clock: Clock;
  policy: PasswordStepPolicy;
}

/** Seconds until the next try is allowed, growing with each wrong password past throttleAfter. */
export function throttleWait(failures: number, lastFailure: Date | null, now: Date, policy: PasswordStepPolicy): number {
  if (failures < policy.throttleAfter || !lastFailure) return 0;
  const delay = Math.min(2 ** (failures - policy.throttleAfter), policy.maxDelaySeconds);
  return Math.max(0, Math.ceil((lastFailure.getTime() + delay * 1000 - now.getTime()) / 1000));
}

export function createPasswordStep({ accounts, hasher, audit, clock, policy }: Deps): LoginStep {
  const event = (state: LoginState, result: 'success' | 'failure', accountId: string | null, reason?: string) =>
    audit.record({
      event: 'login.password', step: 'password', result, accountId, reason,
      clientId: state.clientId, flowUid: state.uid, ip: state.ip,
    });

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
      let account = username.length <= 256 ? await accounts.findByUsername(username) : undefined;
      if (account?.lockedUntil && account.lockedUntil <= now) {
        // A lock that ran out starts the count afresh instead of re-locking on the next mistake.
        await accounts.clearPasswordFailures(account.id);
        account = { ...account, lockedUntil: null, failedPasswordCount: 0, lastFailedPasswordAt: null };
      }
      if (account?.lockedUntil) {
        await event(state, 'failure', account.id, 'locked');
        const minutes = Math.max(1, Math.ceil((account.lockedUntil.getTime() - now.getTime()) / 60_000));
        return { kind: 'retry', message: 'ACCOUNT_LOCKED', params: { minutes }, data: keep };
      }
      if (account) {
        // Refused before hashing: a throttled account costs an attacker nothing but costs us nothing either.
        const wait = throttleWait(account.failedPasswordCount, account.lastFailedPasswordAt, now, policy);
        if (wait > 0) {
          await event(state, 'failure', account.id, 'throttled');
          return { kind: 'retry', message: 'PASSWORD_THROTTLED', params: { seconds: wait }, data: keep };
        }
      }

      // An unknown user costs the same hash as a wrong password, so time does not tell them apart.
      const tooLong = [...password].length > policy.maxLength;
      if (!account) {
        await hasher.verifyDummy(tooLong ? '' : password);
        await event(state, 'failure', null, 'unknown_user');
        return { kind: 'retry', message: 'CREDENTIALS_INCORRECT', data: keep };
      }
      const ok = tooLong ? (await hasher.verifyDummy(''), false) : await hasher.verify(account.passwordHash, password);
      if (!ok) {
        const count = await accounts.recordPasswordFailure(account.id, now, policy.lockAfter, addSeconds(now, policy.lockSeconds));
        await event(state, 'failure', account.id, 'wrong_password');
        if (count >= policy.lockAfter) {
          await audit.record({ event: 'account.locked', step: 'password', result: 'info', accountId: account.id, reason: 'password_failures', flowUid: state.uid, ip: state.ip });
          return { kind: 'retry', message: 'ACCOUNT_LOCKED', params: { minutes: Math.ceil(policy.lockSeconds / 60) }, data: keep };
        }
        return { kind: 'retry', message: 'CREDENTIALS_INCORRECT', data: keep };
      }
      if (account.disabled) {
        await event(state, 'failure', account.id, 'disabled');
        return { kind: 'retry', message: 'ACCOUNT_DISABLED', data: keep };
      }
      if (account.failedPasswordCount > 0) await accounts.clearPasswordFailures(account.id);
      await event(state, 'success', account.id);
      return { kind: 'passed', accountId: account.id, amr: ['pwd'] };
    },
  };
}
