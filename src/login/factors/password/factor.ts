import { z } from 'zod';
import { accountName, parseAccountName } from '../../../shared/account-name.ts';
import { addSeconds, type Clock } from '../../../shared/clock.ts';
import { cutCodePoints } from '../../../shared/text.ts';
import type { Factor, FactorContext, FactorModule, StepOutcome } from '../../factor.ts';
import type { PasswordHasher } from '../../passwords.ts';
import type { AccountStore, AuditLog } from '../../ports.ts';
import { passwordMessages, type PasswordMessage } from './messages.ts';
import type { PasswordFailures, PasswordFailureStore } from './ports.ts';

export interface PasswordStepPolicy {
  throttleAfter: number;
  maxDelaySeconds: number;
  lockAfter: number;
  lockSeconds: number;
  maxLength: number;
}

export interface PasswordDeps {
  accounts: AccountStore;
  passwordFailures: PasswordFailureStore;
  hasher: PasswordHasher;
  audit: AuditLog;
  clock: Clock;
  settings: { password: PasswordStepPolicy };
}

// The username typed last, shown again with the message about it.
const slot = z.object({ username: z.string().max(1024) });
type Slot = z.infer<typeof slot>;
type Outcome = StepOutcome<Slot>;
type Retry = Outcome & { kind: 'retry'; message: PasswordMessage };

/**
 * The name wrong passwords are counted under, as the login form matches it: `PRIMARY/ada` and
 * `ada` are one account, so one count (the store lowers it as the account lookup does).
 */
export function usernameKey(username: string): string {
  return cutCodePoints(accountName(parseAccountName(username)), 256);
}

/** Seconds until the next try is allowed, growing with each wrong password past throttleAfter. */
export function throttleWait(failures: number, lastFailure: Date | null, now: Date, policy: PasswordStepPolicy): number {
  if (failures < policy.throttleAfter || !lastFailure) return 0;
  const delay = Math.min(2 ** (failures - policy.throttleAfter), policy.maxDelaySeconds);
  return Math.max(0, Math.ceil((lastFailure.getTime() + delay * 1000 - now.getTime()) / 1000));
}

/** Username and password: the first stage. Wrong passwords are throttled, then locked, per username (known or not). */
export function passwordFactor({ accounts, passwordFailures: failures, hasher, audit, clock, settings }: PasswordDeps): Factor<Slot> {
  const policy = settings.password;
  const event = (state: FactorContext<Slot>, result: 'success' | 'failure', accountId: string | null, reason?: string) =>
    audit.record({
      event: 'login.password', step: 'password', result, accountId, reason,
      clientId: state.clientId, flowUid: state.uid, ip: state.ip,
    });

  const lockedFor = (until: Date, now: Date): Retry => ({
    kind: 'retry', message: 'ACCOUNT_LOCKED', params: { minutes: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000)) },
  });

  /** Why an attempt was refused before any hashing: it depends only on the username's count, so a real and an unknown user look the same. */
  function refusal(record: PasswordFailures, now: Date): { outcome: Retry; reason: string } {
    if (record.lockedUntil && record.lockedUntil > now) return { outcome: lockedFor(record.lockedUntil, now), reason: 'locked' };
    // A refusal whose row changed since (a right password cleared it) still asks for a second's wait.
    const seconds = Math.max(1, throttleWait(record.failures, record.lastFailureAt, now, policy));
    return { outcome: { kind: 'retry', message: 'PASSWORD_THROTTLED', params: { seconds } }, reason: 'throttled' };
  }

  return {
    id: 'password',
    stage: 'first',
    amr: ['pwd'],
    slot,
    actions: [],
    enrolled: () => true,

    async show(state) {
      // The username typed last, else the app's hint (OIDC login_hint), cut like a typed one.
      const username = state.slot?.username ?? cutCodePoints(state.loginHint?.trim() ?? '', 256);
      return { view: 'factors/password/password', model: { username } };
    },

    async submit(state, form): Promise<Outcome> {
      const username = (form.username ?? '').trim();
      const password = form.password ?? '';
      const keep: Slot = { username: cutCodePoints(username, 256) };
      if (!username || !password) return { kind: 'retry', message: 'CREDENTIALS_MISSING', slot: keep };

      const now = clock.now();
      const key = usernameKey(username);
      // The attempt is taken before the hash and counted as wrong until the hash says otherwise:
      // simultaneous guesses cannot all read a count that none of them has written yet.
      const attempt = await failures.reserve(key, now, { ...policy, lockUntil: addSeconds(now, policy.lockSeconds) });
      const account = [...username].length <= 256 ? await accounts.findByUsername(username) : undefined;
      if (!attempt.taken) {
        const refused = refusal(attempt.record, now);
        await event(state, 'failure', account?.id ?? null, refused.reason);
        return { ...refused.outcome, slot: keep };
      }

      // An unknown user costs the same hash as a wrong password, so time does not tell them apart.
      const tooLong = [...password].length > policy.maxLength;
      const ok = account && !tooLong
        ? await hasher.verify(account.passwordHash, password)
        : (await hasher.verifyDummy(tooLong ? '' : password), false);

      if (!ok || !account) {
        await event(state, 'failure', account?.id ?? null, account ? 'wrong_password' : 'unknown_user');
        if (attempt.failures >= policy.lockAfter) {
          await audit.record({ event: 'login.locked', step: 'password', result: 'info', accountId: account?.id ?? null, reason: 'password_failures', flowUid: state.uid, ip: state.ip });
          return { ...lockedFor(attempt.lockedUntil ?? addSeconds(now, policy.lockSeconds), now), slot: keep };
        }
        return { kind: 'retry', message: 'CREDENTIALS_INCORRECT', slot: keep };
      }
      if (account.disabled) {
        await event(state, 'failure', account.id, 'disabled');
        return { kind: 'retry', message: 'ACCOUNT_DISABLED', slot: keep };
      }
      await failures.clear(key);
      await event(state, 'success', account.id);
      return { kind: 'passed', account, slot: null };
    },
  };
}

export const passwordModule: FactorModule<PasswordDeps> = { id: 'password', signInEvent: { event: 'login.password', label: 'password' }, messages: passwordMessages, build: passwordFactor };
