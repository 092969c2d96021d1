import type { Account } from './ports.ts';
import type { LoginPolicy, LoginState } from './types.ts';

export interface SecondFactorSettings {
  mandatory: boolean;
  enableByUserClaim: boolean;
}

export function hasVerifiedPhone(account: Account): account is Account & { phone: string } {
  return account.phone !== null && account.phoneVerifiedAt !== null;
}

/**
 * Whether this login needs a second factor. A request for the MFA level (acr_values) or a client
 * that requires it beats everything, the per-account exemption included. Otherwise an exempt account
 * skips it, an account with a number does it, and one without a number does it only when it is
 * mandatory (and then meets an error page instead of a silent skip).
 */
export function secondFactorNeeded(account: Account, settings: SecondFactorSettings, policy: LoginPolicy): boolean {
  if (policy.mfaRequested || policy.clientMfa === 'required') return true;
  if (settings.enableByUserClaim && account.smsOtpExempt) return false;
  if (hasVerifiedPhone(account)) return true;
  return policy.clientMfa === 'optional' ? false : settings.mandatory;
}

/** A code to the account's number, a code to a number captured at login, or a backup code. */
export function secondFactorPassed(state: LoginState): boolean {
  return state.passed.some((step) => step === 'sms-otp' || step === 'phone-capture' || step === 'backup-code');
}

export function lockedUntil(account: Account, now: Date): Date | undefined {
  return account.otpLockedUntil && account.otpLockedUntil > now ? account.otpLockedUntil : undefined;
}
