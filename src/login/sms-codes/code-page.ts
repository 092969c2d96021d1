import type { Clock } from '../../shared/clock.ts';
import { maskPhone } from '../../shared/phone.ts';
import { resendWait } from './sending.ts';
import type { OtpChallenge } from './ports.ts';

export interface CodePagePolicy {
  alphanumeric: boolean;
  tokenLength: number;
  resendEnable: boolean;
  maxResends: number;
  resendCooldownSeconds: number;
  maskVisibleDigits: number;
}

/**
 * What the code page shows: what became of the code (`sent`: sent, failed, refused, uncertain, or
 * none when no code was sent yet, as when a budget was spent), where it went, the field's shape, and
 * the resend state.
 */
export function codePageModel(challenge: OtpChallenge | undefined, destination: string, policy: CodePagePolicy, clock: Clock) {
  const resends = challenge ? challenge.sends - 1 : 0;
  const sent = challenge?.lastSend ?? 'none';
  return {
    sent,
    destination: maskPhone(challenge?.destination ?? destination, policy.maskVisibleDigits),
    numeric: !policy.alphanumeric,
    codeLength: policy.tokenLength,
    // A number the gateway refuses gets nothing from asking again.
    canResend: policy.resendEnable && resends < policy.maxResends && sent !== 'refused',
    resendWait: challenge ? resendWait(challenge, clock.now(), policy.resendCooldownSeconds) : 0,
  };
}
