import type { KeyObject } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';
import { codeMatches, normalizeCode } from './otp-codes.ts';
import type { Account, OtpChallenge, OtpStore } from './ports.ts';
import type { LoginState, StepOutcome } from './types.ts';
import type { secondFactorSupport } from './steps/step-support.ts';

export interface OtpVerifyPolicy {
  retryEnable: boolean;
  maxAttempts: number;
  showAuthFailureReason: boolean;
}

interface Deps {
  otp: OtpStore;
  clock: Clock;
  hmacKey: KeyObject;
  policy: OtpVerifyPolicy;
  support: ReturnType<typeof secondFactorSupport>;
  /** The audit event name for this use of a code (`login.sms_otp`, `phone.verify`). */
  event: string;
}

export type Verification = { ok: true; challenge: OtpChallenge } | { ok: false; outcome: StepOutcome };

/** Checks a code typed for this login's challenge: every rule of the SMS code, in one place. */
export function otpVerifier({ otp, clock, hmacKey, policy, support, event }: Deps) {
  async function wrongCode(state: LoginState, failures: number, expired: boolean, attemptsLeft: number): Promise<StepOutcome> {
    const locked = await support.wrongCode(state, failures, event, 'CODE_INCORRECT_PLAIN', expired ? 'expired' : 'wrong_code');
    if (locked) return locked;
    // Without retry the login ends here, on the server, whatever the page offered.
    if (!policy.retryEnable) return { kind: 'failed', message: 'CODE_REJECTED' };
    if (expired) return { kind: 'retry', message: 'CODE_EXPIRED' };
    if (attemptsLeft <= 0) return { kind: 'retry', message: 'CODE_DEAD' };
    return policy.showAuthFailureReason
      ? { kind: 'retry', message: 'CODE_INCORRECT', params: { attempts: attemptsLeft } }
      : { kind: 'retry', message: 'CODE_INCORRECT_PLAIN' };
  }

  const refuse = (outcome: StepOutcome): Verification => ({ ok: false, outcome });

  return async function verify(state: LoginState, account: Account, input: string): Promise<Verification> {
    const code = normalizeCode(input);
    if (!code) return refuse({ kind: 'retry', message: 'CODE_MISSING' });
    const challenge = await otp.countAttempt(state.uid, policy.maxAttempts);
    if (!challenge) {
      const existing = await otp.find(state.uid);
      if (!existing) return refuse({ kind: 'retry', message: 'SMS_NOT_SENT' });
      await support.event(state, event, 'failure', existing.consumed ? 'code_used' : 'code_dead');
      return refuse({ kind: 'retry', message: existing.consumed ? 'CODE_ALREADY_USED' : 'CODE_DEAD' });
    }
    // Defence in depth: a code sent for another account never passes this one.
    if (challenge.accountId !== account.id) return refuse({ kind: 'retry', message: 'CODE_DEAD' });
    // The account's lock is taken before the compare, like the code's own cap above: a burst of
    // guesses across this account's logins cannot compare more codes than the lock allows.
    const attempt = await support.takeAttempt(account, 'CODE_INCORRECT_PLAIN');
    if ('refused' in attempt) return refuse(attempt.refused);
    const attemptsLeft = policy.maxAttempts - challenge.attempts;
    if (challenge.expiresAt <= clock.now()) return refuse(await wrongCode(state, attempt.failures, true, attemptsLeft));
    if (!codeMatches(hmacKey, state.uid, code, challenge.codeHmac)) return refuse(await wrongCode(state, attempt.failures, false, attemptsLeft));
    await support.rightCode(account);
    if (!(await otp.consume(state.uid))) return refuse({ kind: 'retry', message: 'CODE_ALREADY_USED' });
    return { ok: true, challenge };
  };
}
