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

    /** Counts a wrong code on the account (across logins; a resend does not reset it). Returns the lock outcome when it locks. */
    async countFailure(state: LoginState, account: Account, event: string, hidden: MessageCode, reason = 'wrong_code'): Promise<StepOutcome | undefined> {
      const count = await accounts.recordOtpFailure(account.id, policy.lockoutThreshold, addSeconds(clock.now(), policy.lockoutSeconds));
      await this.event(state, event, 'failure', reason);
      if (count < policy.lockoutThreshold) return undefined;
      await this.event(state, 'account.locked', 'info', 'otp_failures');
      return this.lockedOutcome(addSeconds(clock.now(), policy.lockoutSeconds), hidden);
    },
  };
}
