import type { KeyObject } from 'node:crypto';
import { addSeconds, type Clock } from '../../shared/clock.ts';
import type { MessageCode } from '../messages.ts';
import type { OtpSending } from '../otp-sending.ts';
import { requestAccount } from '../request-account.ts';
import type { Account, AccountStore, AuditLog, OtpStore } from '../ports.ts';
import type { LoginState, StepId, StepOutcome, StepView } from '../types.ts';

/** What a step that sends and checks SMS codes is built from. */
export interface CodeStepDeps<Policy> {
  accounts: AccountStore;
  otp: OtpStore;
  sending: OtpSending;
  audit: AuditLog;
  clock: Clock;
  hmacKey: KeyObject;
  policy: Policy;
}

/** What the second-factor steps share: the account, audit records, and the lock after wrong codes. */
export function secondFactorSupport(step: StepId, deps: { accounts: AccountStore; audit: AuditLog; clock: Clock; policy: { lockoutThreshold: number; lockoutSeconds: number; showAuthFailureReason: boolean } }) {
  const { accounts, audit, clock, policy } = deps;

  const minutesUntil = (until: Date) => Math.max(1, Math.ceil((until.getTime() - clock.now().getTime()) / 60_000));

  return {
    async accountOf(state: LoginState): Promise<Account> {
      const account = await requestAccount(state, accounts);
      if (!account) throw new Error(`${step} step without an account`);
      return account;
    },

    event(state: LoginState, name: string, result: 'success' | 'failure' | 'info', reason?: string, detail?: Record<string, unknown>) {
      return audit.record({ event: name, result, step, reason, accountId: state.accountId, clientId: state.clientId, flowUid: state.uid, ip: state.ip, detail });
    },

    /** Whether the lock is named depends on showAuthFailureReason; hidden, it reads as a wrong code. */
    lockedOutcome(until: Date, hidden: MessageCode): StepOutcome & { kind: 'retry' } {
      return policy.showAuthFailureReason
        ? { kind: 'retry', message: 'OTP_LOCKED', params: { minutes: minutesUntil(until) } }
        : { kind: 'retry', message: hidden };
    },

    /** The page for a locked account: no code is sent, only a backup code (if offered) or cancel. */
    lockedView(until: Date, backupAvailable: boolean): StepView {
      const { message, params } = this.lockedOutcome(until, 'CODE_INCORRECT_PLAIN');
      return { view: 'second-factor-unavailable', model: { backupAvailable }, message: { message, params } };
    },

    /**
     * Takes one attempt at a code from the account's budget of wrong codes (across logins; a resend
     * does not reset it), before the code is compared. Refused with the lock outcome while locked.
     */
    async takeAttempt(account: Account, hidden: MessageCode): Promise<{ failures: number } | { refused: StepOutcome & { kind: 'retry' } }> {
      const now = clock.now();
      const attempt = await accounts.reserveOtpAttempt(account.id, now, policy.lockoutThreshold, addSeconds(now, policy.lockoutSeconds));
      return attempt.taken ? { failures: attempt.failures } : { refused: this.lockedOutcome(attempt.lockedUntil, hidden) };
    },

    /** A taken attempt whose code was wrong: recorded, and the lock outcome when it was the one that locked. */
    async wrongCode(state: LoginState, failures: number, event: string, hidden: MessageCode, reason = 'wrong_code'): Promise<StepOutcome | undefined> {
      await this.event(state, event, 'failure', reason);
      if (failures < policy.lockoutThreshold) return undefined;
      await this.event(state, 'account.locked', 'info', 'otp_failures');
      return this.lockedOutcome(addSeconds(clock.now(), policy.lockoutSeconds), hidden);
    },

    /** A taken attempt whose code was right: the count of wrong codes starts again. */
    rightCode(account: Account): Promise<void> {
      return accounts.clearOtpFailures(account.id);
    },
  };
}
