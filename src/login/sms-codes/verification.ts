import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../shared/clock.ts';
import type { CodeLock } from '../code-lock.ts';
import type { Failed, LoginContext, Retry } from '../factor.ts';
import type { Account } from '../ports.ts';
import { codeMatches, normalizeCode } from '../one-time-codes.ts';
import type { OtpChallenge, OtpStore } from './ports.ts';

export interface OtpVerifyPolicy {
  retryEnable: boolean;
  maxAttempts: number;
  showAuthFailureReason: boolean;
}

/**
 * What checking a typed code found. `wrong` and `expired` took an attempt: `attemptsLeft` on this
 * code, `locked` when that attempt locked the account. `spent`: the code cannot be tried again
 * (`used`: it already passed). `locked`: the account's codes are locked (no attempt was taken).
 */
export type CodeCheck =
  | { ok: true; challenge: OtpChallenge }
  | { ok: false; reason: 'missing' | 'not-sent' | 'used' | 'spent' | 'foreign' }
  | { ok: false; reason: 'wrong' | 'expired'; attemptsLeft: number; locked: boolean }
  | { ok: false; reason: 'locked'; until: Date };

type Ctx = Pick<LoginContext, 'uid' | 'clientId' | 'ip' | 'flow'>;

/** Checks a code typed for this login's challenge: every rule of the SMS code, in one place. */
export function otpVerifier({ otp, clock, hmacKey, policy, lock }: { otp: OtpStore; clock: Clock; hmacKey: KeyObject; policy: OtpVerifyPolicy; lock: CodeLock }) {
  /** The message for a failed check (at the edge of a step or page); `failed` when no second try is allowed. */
  function outcome(check: CodeCheck & { ok: false }): Retry | Failed {
    switch (check.reason) {
      case 'missing': return { kind: 'retry', message: 'CODE_MISSING' };
      case 'not-sent': return { kind: 'retry', message: 'SMS_NOT_SENT' };
      case 'used': return { kind: 'retry', message: 'CODE_ALREADY_USED' };
      case 'spent': case 'foreign': return { kind: 'retry', message: 'CODE_DEAD' };
      case 'locked': return lock.lockedRetry(check.until, 'CODE_INCORRECT_PLAIN');
      case 'wrong': case 'expired':
        if (check.locked) return lock.lockedRetry(lock.lockEnds(), 'CODE_INCORRECT_PLAIN');
        // Without retry the login ends here, on the server, whatever the page offered.
        if (!policy.retryEnable) return { kind: 'failed', message: 'CODE_REJECTED' };
        if (check.reason === 'expired') return { kind: 'retry', message: 'CODE_EXPIRED' };
        if (check.attemptsLeft <= 0) return { kind: 'retry', message: 'CODE_DEAD' };
        return policy.showAuthFailureReason
          ? { kind: 'retry', message: 'CODE_INCORRECT', params: { attempts: check.attemptsLeft } }
          : { kind: 'retry', message: 'CODE_INCORRECT_PLAIN' };
    }
  }

  async function verify(ctx: Ctx, account: Account, input: string, event: string): Promise<CodeCheck> {
    const code = normalizeCode(input);
    if (!code) return { ok: false, reason: 'missing' };
    const challenge = await otp.countAttempt(ctx.uid, policy.maxAttempts);
    if (!challenge) {
      const existing = await otp.find(ctx.uid);
      if (!existing) return { ok: false, reason: 'not-sent' };
      await lock.event(ctx, event, 'failure', existing.consumed ? 'code_used' : 'code_dead');
      return { ok: false, reason: existing.consumed ? 'used' : 'spent' };
    }
    // Defence in depth: a code sent for another account never passes this one.
    if (challenge.accountId !== account.id) return { ok: false, reason: 'foreign' };
    // The account's lock is taken before the compare, like the code's own cap above: a burst of
    // guesses across this account's logins cannot compare more codes than the lock allows.
    const attempt = await lock.take(account);
    if (!attempt.taken) return { ok: false, reason: 'locked', until: attempt.lockedUntil };
    const attemptsLeft = policy.maxAttempts - challenge.attempts;
    const expired = challenge.expiresAt <= clock.now();
    if (expired || !codeMatches(hmacKey, ctx.uid, code, challenge.codeHmac)) {
      const locked = await lock.wrong(ctx, attempt.failures, event, expired ? 'expired' : 'wrong_code');
      return { ok: false, reason: expired ? 'expired' : 'wrong', attemptsLeft, locked };
    }
    await lock.right(account);
    if (!(await otp.consume(ctx.uid))) return { ok: false, reason: 'used' };
    return { ok: true, challenge };
  }

  return { verify, outcome };
}

