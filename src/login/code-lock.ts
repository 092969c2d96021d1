import { addSeconds, type Clock } from '../shared/clock.ts';
import type { LoginContext, Retry, StepView } from './factor.ts';
import type { Account, AccountStore, AuditLog } from './ports.ts';

export interface CodeLockPolicy {
  lockoutThreshold: number;
  lockoutSeconds: number;
  showAuthFailureReason: boolean;
}

export type Attempt = { taken: true; failures: number } | { taken: false; lockedUntil: Date };

/**
 * The account's lock after wrong codes, shared by every second factor that checks a code (SMS,
 * backup code, and the account page's number change): a budget of wrong codes across logins that a
 * resend does not reset, taken before any code is compared. Also the audit records of those steps.
 */
export function codeLock(step: string, deps: { accounts: AccountStore; audit: AuditLog; clock: Clock; policy: CodeLockPolicy }) {
  const { accounts, audit, clock, policy } = deps;
  const minutesUntil = (until: Date) => Math.max(1, Math.ceil((until.getTime() - clock.now().getTime()) / 60_000));

  const lock = {
    event(ctx: Pick<LoginContext, 'uid' | 'clientId' | 'ip' | 'flow'>, name: string, result: 'success' | 'failure' | 'info', reason?: string, detail?: Record<string, unknown>) {
      return audit.record({ event: name, result, step, reason, accountId: ctx.flow.accountId, clientId: ctx.clientId, flowUid: ctx.uid, ip: ctx.ip, detail });
    },

    lockedUntil(account: Account): Date | undefined {
      return account.otpLockedUntil && account.otpLockedUntil > clock.now() ? account.otpLockedUntil : undefined;
    },

    /** Whether the lock is named depends on showAuthFailureReason; hidden, it reads as a wrong code (`hidden`). */
    lockedRetry(until: Date, hidden: string): Retry {
      return policy.showAuthFailureReason
        ? { kind: 'retry', message: 'OTP_LOCKED', params: { minutes: minutesUntil(until) } }
        : { kind: 'retry', message: hidden };
    },

    /** The page for a locked account: no code is sent; the chain adds the other factors it may use. */
    lockedView(until: Date): StepView {
      const { message, params } = lock.lockedRetry(until, 'CODE_INCORRECT_PLAIN');
      return { view: 'second-factor-unavailable', model: {}, message: { message, params } };
    },

    /** Takes one attempt from the account's budget of wrong codes, before the code is compared. */
    async take(account: Account): Promise<Attempt> {
      const now = clock.now();
      return accounts.reserveOtpAttempt(account.id, now, policy.lockoutThreshold, addSeconds(now, policy.lockoutSeconds));
    },

    /** A taken attempt whose code was wrong: recorded; true when it was the attempt that locked the account. */
    async wrong(ctx: Pick<LoginContext, 'uid' | 'clientId' | 'ip' | 'flow'>, failures: number, event: string, reason = 'wrong_code'): Promise<boolean> {
      await lock.event(ctx, event, 'failure', reason);
      if (failures < policy.lockoutThreshold) return false;
      await lock.event(ctx, 'account.locked', 'info', 'otp_failures');
      return true;
    },

    /** When a lock just set ends (for its message). */
    lockEnds: () => addSeconds(clock.now(), policy.lockoutSeconds),

    /** A taken attempt whose code was right: the count of wrong codes starts again. */
    right(account: Account): Promise<void> {
      return accounts.clearOtpFailures(account.id);
    },
  };
  return lock;
}

export type CodeLock = ReturnType<typeof codeLock>;
