import { maskPhone } from '../../shared/phone.ts';
import { codePageModel } from '../code-page.ts';
import { otpVerifier } from '../otp-verification.ts';
import type { Account } from '../ports.ts';
import { hasVerifiedPhone, lockedUntil, secondFactorNeeded, secondFactorPassed, type SecondFactorSettings } from '../second-factor.ts';
import type { LoginState, LoginStep, StepOutcome } from '../types.ts';
import { secondFactorSupport, type CodeStepDeps } from './step-support.ts';

export interface SmsOtpPolicy extends SecondFactorSettings {
  retryEnable: boolean;
  resendEnable: boolean;
  backupCode: boolean;
  tokenLength: number;
  alphanumeric: boolean;
  maxAttempts: number;
  maxResends: number;
  resendCooldownSeconds: number;
  lockoutThreshold: number;
  lockoutSeconds: number;
  showAuthFailureReason: boolean;
  maskVisibleDigits: number;
}

export function createSmsOtpStep({ accounts, otp, sending, audit, clock, hmacKey, policy }: CodeStepDeps<SmsOtpPolicy>): LoginStep {
  const support = secondFactorSupport('sms-otp', { accounts, audit, clock, policy });

  const verifyCode = otpVerifier({ otp, clock, hmacKey, policy, support, event: 'login.sms_otp' });

  async function verify(state: LoginState, account: Account & { phone: string }, input: string): Promise<StepOutcome> {
    const result = await verifyCode(state, account, input);
    if (!result.ok) return result.outcome;
    // Only a code sent to the account's own number proves it (a number typed in another login's
    // phone capture may have been sent a code for this login before this number was verified).
    if (result.challenge.destination !== account.phone) return { kind: 'retry', message: 'CODE_DEAD' };
    await support.event(state, 'login.sms_otp', 'success', undefined, { destination: maskPhone(result.challenge.destination, policy.maskVisibleDigits) });
    return { kind: 'passed', accountId: account.id, amr: ['sms'] };
  }

  return {
    id: 'sms-otp',

    async appliesTo(state) {
      // Only a real switch to backup codes (and only while they are enabled) sets this step aside.
      if (!state.passed.includes('password') || secondFactorPassed(state) || (state.data.choice === 'backup-code' && policy.backupCode)) return false;
      return secondFactorNeeded(await support.accountOf(state), policy, state.policy);
    },

    async show(state) {
      const account = await support.accountOf(state);
      if (!hasVerifiedPhone(account)) return { view: 'second-factor-unavailable', model: { backupAvailable: policy.backupCode }, message: { message: 'NO_PHONE' } };
      const locked = lockedUntil(account, clock.now());
      // No SMS is sent to a locked account.
      if (locked) return support.lockedView(locked, policy.backupCode);
      const { challenge, problem: sendProblem } = await sending.sendFirst(state, account.id, account.phone);
      // A code that went to another number (see verify) is no use here: a new one goes to this number.
      const elsewhere = challenge && challenge.destination !== account.phone;
      return {
        view: 'factors/sms-otp/code',
        model: codePageModel(elsewhere ? undefined : challenge, account.phone, policy, clock),
        message: sendProblem ?? (elsewhere ? { message: 'CODE_DEAD' } : undefined),
      };
    },

    async submit(state, form): Promise<StepOutcome> {
      const account = await support.accountOf(state);
      if (form.action === 'backup') {
        return policy.backupCode ? { kind: 'switch', to: 'backup-code' } : { kind: 'retry', message: 'STALE_FORM' };
      }
      const locked = lockedUntil(account, clock.now());
      if (locked) return support.lockedOutcome(locked, 'CODE_INCORRECT_PLAIN');
      if (!hasVerifiedPhone(account)) return { kind: 'retry', message: 'NO_PHONE' };
      if (form.action === 'resend') {
        if (!policy.resendEnable) return { kind: 'retry', message: 'RESEND_DISABLED' };
        const result = await sending.resend(state, account.id, account.phone);
        return { kind: 'retry', message: result.message, params: result.params };
      }
      return verify(state, account, form.code ?? '');
    },
  };
}
