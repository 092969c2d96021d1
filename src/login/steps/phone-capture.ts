import { maskPhone, normalizeMobile } from '../../shared/phone.ts';
import { codePageModel, type CodePagePolicy } from '../code-page.ts';
import { otpVerifier } from '../otp-verification.ts';
import { hasVerifiedPhone, lockedUntil, secondFactorNeeded, secondFactorPassed, type SecondFactorSettings } from '../second-factor.ts';
import type { LoginState, LoginStep, StepOutcome } from '../types.ts';
import { secondFactorSupport, type CodeStepDeps } from './step-support.ts';

export interface PhoneCapturePolicy extends SecondFactorSettings, CodePagePolicy {
  captureAndUpdateMobileNumber: boolean;
  phoneUnique: boolean;
  retryEnable: boolean;
  maxAttempts: number;
  lockoutThreshold: number;
  lockoutSeconds: number;
  showAuthFailureReason: boolean;
}

interface Deps extends CodeStepDeps<PhoneCapturePolicy> {
  /** Country of numbers typed without a country code, and whether a number may get SMS at all. */
  defaultCountry: string | undefined;
  destinationAllowed(e164: string): boolean;
}

/**
 * A user with no verified number gives one, and proves it with a code sent to it. Only that code
 * saves the number (a backup code passes the login but never saves a number that got no code).
 */
export function createPhoneCaptureStep(deps: Deps): LoginStep {
  const { accounts, otp, sending, clock, policy } = deps;
  const support = secondFactorSupport('phone-capture', { accounts, audit: deps.audit, clock, policy });
  const verifyCode = otpVerifier({ otp, clock, hmacKey: deps.hmacKey, policy, support, event: 'phone.verify' });
  const pendingOf = (state: LoginState) => (typeof state.data.pendingPhone === 'string' ? state.data.pendingPhone : undefined);

  async function takenElsewhere(accountId: string, phone: string): Promise<boolean> {
    if (!policy.phoneUnique) return false;
    return (await accounts.findIdsByVerifiedPhone(phone)).some((id) => id !== accountId);
  }

  async function acceptNumber(state: LoginState, accountId: string, input: string): Promise<StepOutcome> {
    if (!input.trim()) return { kind: 'retry', message: 'PHONE_MISSING' };
    const parsed = normalizeMobile(input.slice(0, 64), deps.defaultCountry);
    if (!parsed.ok) return { kind: 'retry', message: parsed.problem === 'NOT_MOBILE' ? 'PHONE_NOT_MOBILE' : 'PHONE_INVALID' };
    if (!deps.destinationAllowed(parsed.e164)) return { kind: 'retry', message: 'PHONE_COUNTRY_REFUSED' };
    // The same answer whoever holds the number: nothing tells which account has it.
    if (await takenElsewhere(accountId, parsed.e164)) return { kind: 'retry', message: 'PHONE_UNAVAILABLE' };
    const problem = await sending.resend(state, accountId, parsed.e164);
    await support.event(state, 'phone.captured', 'info', undefined, { destination: maskPhone(parsed.e164, policy.maskVisibleDigits) });
    // Refused before anything went out: the number form stays, with the reason.
    const refused = ['RESEND_TOO_SOON', 'RESEND_LIMIT', 'SEND_LIMIT', 'SEND_BUSY'].includes(problem.message);
    return { kind: 'retry', message: problem.message, params: 'params' in problem ? problem.params : undefined, data: refused ? {} : { pendingPhone: parsed.e164 } };
  }

  return {
    id: 'phone-capture',

    async appliesTo(state) {
      if (!policy.captureAndUpdateMobileNumber || !state.passed.includes('password') || secondFactorPassed(state)) return false;
      if (state.data.choice === 'backup-code' && policy.backupCode) return false;
      const account = await support.accountOf(state);
      return !hasVerifiedPhone(account) && secondFactorNeeded(account, policy, state.policy);
    },

    async show(state) {
      const account = await support.accountOf(state);
      const locked = lockedUntil(account, clock.now());
      if (locked) return support.lockedView(locked, policy.backupCode);
      const pending = pendingOf(state);
      if (!pending) return { view: 'factors/phone-capture/number', model: { backupAvailable: policy.backupCode, countryHint: deps.defaultCountry } };
      return { view: 'factors/sms-otp/code', model: { ...codePageModel(await otp.find(state.uid), pending, policy, clock), canChangeNumber: true } };
    },

    async submit(state, form): Promise<StepOutcome> {
      if (form.action === 'backup') return policy.backupCode ? { kind: 'switch', to: 'backup-code' } : { kind: 'retry', message: 'STALE_FORM' };
      const account = await support.accountOf(state);
      const locked = lockedUntil(account, clock.now());
      if (locked) return support.lockedOutcome(locked, 'CODE_INCORRECT_PLAIN');
      const pending = pendingOf(state);
      if (form.action === 'number') return acceptNumber(state, account.id, form.phone ?? '');
      if (!pending) return { kind: 'retry', message: 'PHONE_MISSING' };
      if (form.action === 'change') return { kind: 'retry', message: 'PHONE_CHANGE', data: { pendingPhone: null } };
      if (form.action === 'resend') {
        if (!policy.resendEnable) return { kind: 'retry', message: 'RESEND_DISABLED' };
        const result = await sending.resend(state, account.id, pending);
        return { kind: 'retry', message: result.message, params: result.params };
      }
      const result = await verifyCode(state, account, form.code ?? '');
      if (!result.ok) return result.outcome;
      if (result.challenge.destination !== pending || (await takenElsewhere(account.id, pending))) return { kind: 'retry', message: 'PHONE_UNAVAILABLE', data: { pendingPhone: null } };
      await accounts.setPhone(account.id, pending, clock.now());
      await support.event(state, 'phone.verified', 'success', undefined, { destination: maskPhone(pending, policy.maskVisibleDigits) });
      return { kind: 'passed', accountId: account.id, amr: ['sms'], data: { pendingPhone: null } };
    },
  };
}
