import type { Clock } from '../../shared/clock.ts';
import { maskPhone } from '../../shared/phone.ts';
import { codeMatches, normalizeCode } from '../otp-codes.ts';
import { resendWait, type OtpSending } from '../otp-sending.ts';
import type { Account, AccountStore, AuditLog, OtpStore } from '../ports.ts';
import { hasVerifiedPhone, lockedUntil, secondFactorNeeded, secondFactorPassed, type SecondFactorSettings } from '../second-factor.ts';
import type { LoginState, LoginStep, StepOutcome } from '../types.ts';
import { secondFactorSupport } from './step-support.ts';

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

interface Deps {
  accounts: AccountStore;
  otp: OtpStore;
  sending: OtpSending;
  audit: AuditLog;
  clock: Clock;
  hmacKey: Buffer;
  policy: SmsOtpPolicy;
}

export function createSmsOtpStep({ accounts, otp, sending, audit, clock, hmacKey, policy }: Deps): LoginStep {
  const support = secondFactorSupport('sms-otp', { accounts, audit, clock, policy });

  async function wrongCode(state: LoginState, account: Account, expired: boolean, attemptsLeft: number): Promise<StepOutcome> {
    const locked = await support.countFailure(state, account, 'login.sms_otp', 'CODE_INCORRECT_PLAIN', expired ? 'expired' : 'wrong_code');
    if (locked) return locked;
    // Without retry the login ends here, on the server, whatever the page offered.
    if (!policy.retryEnable) return { kind: 'failed', message: 'CODE_REJECTED' };
    if (expired) return { kind: 'retry', message: 'CODE_EXPIRED' };
    if (attemptsLeft <= 0) return { kind: 'retry', message: 'CODE_DEAD' };
    return policy.showAuthFailureReason
      ? { kind: 'retry', message: 'CODE_INCORRECT', params: { attempts: attemptsLeft } }
      : { kind: 'retry', message: 'CODE_INCORRECT_PLAIN' };
  }

  async function verify(state: LoginState, account: Account, input: string): Promise<StepOutcome> {
    const code = normalizeCode(input);
    if (!code) return { kind: 'retry', message: 'CODE_MISSING' };
    const challenge = await otp.countAttempt(state.uid, policy.maxAttempts);
    if (!challenge) {
      const existing = await otp.find(state.uid);
      if (!existing) return { kind: 'retry', message: 'SMS_NOT_SENT' };
      await support.event(state, 'login.sms_otp', 'failure', existing.consumed ? 'code_used' : 'code_dead');
      return { kind: 'retry', message: existing.consumed ? 'CODE_ALREADY_USED' : 'CODE_DEAD' };
    }
    // Defence in depth: a code sent for another account never passes this one.
    if (challenge.accountId !== account.id) return { kind: 'retry', message: 'CODE_DEAD' };
    const attemptsLeft = policy.maxAttempts - challenge.attempts;
    if (challenge.expiresAt <= clock.now()) return wrongCode(state, account, true, attemptsLeft);
    if (!codeMatches(hmacKey, state.uid, code, challenge.codeHmac)) return wrongCode(state, account, false, attemptsLeft);
    if (!(await otp.consume(state.uid))) return { kind: 'retry', message: 'CODE_ALREADY_USED' };
    await accounts.clearOtpFailures(account.id);
    await support.event(state, 'login.sms_otp', 'success', undefined, { destination: maskPhone(challenge.destination, policy.maskVisibleDigits) });
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
      const options = { backupAvailable: policy.backupCode };
      if (!hasVerifiedPhone(account)) return { view: 'second-factor-unavailable', model: options, message: { message: 'NO_PHONE' } };
      const locked = lockedUntil(account, clock.now());
      // No SMS is sent to a locked account.
      if (locked) {
        const outcome = support.lockedOutcome(locked, 'CODE_INCORRECT_PLAIN');
        return { view: 'second-factor-unavailable', model: options, message: outcome.kind === 'retry' ? { message: outcome.message, params: outcome.params } : undefined };
      }
      const sendProblem = await sending.sendFirst(state, account.id, account.phone);
      const challenge = await otp.find(state.uid);
      const resends = challenge ? challenge.sends - 1 : 0;
      return {
        view: 'sms-otp',
        model: {
          ...options,
          destination: maskPhone(challenge?.destination ?? account.phone, policy.maskVisibleDigits),
          numeric: !policy.alphanumeric,
          codeLength: policy.tokenLength,
          canResend: policy.resendEnable && resends < policy.maxResends,
          resendWait: challenge ? resendWait(challenge, clock.now(), policy.resendCooldownSeconds) : 0,
        },
        message: sendProblem ? { message: sendProblem } : undefined,
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
