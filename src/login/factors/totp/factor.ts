import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../../shared/clock.ts';
import { codeLock, type CodeLockPolicy } from '../../code-lock.ts';
import type { Factor, FactorModule, StepOutcome } from '../../factor.ts';
import type { AccountStore, AuditLog } from '../../ports.ts';
import { totpInfo, totpMessages, totpTexts } from './messages.ts';
import { totpTranslations } from './translations.ts';
import type { TotpStore } from './ports.ts';
import { matchingStep, unsealSecret } from './secrets.ts';

export interface TotpDeps {
  accounts: AccountStore;
  totp: TotpStore;
  audit: AuditLog;
  clock: Clock;
  /** The per-purpose key that seals the secrets at rest. */
  totpKey: KeyObject;
  settings: { smsOtp: CodeLockPolicy };
}

/**
 * A code from an authenticator app (TOTP, RFC 6238), for an account that set one up on the account
 * page. Listed before the SMS code: an account with both is asked for this one first, which costs no
 * SMS. Each time step is accepted once, and wrong codes draw on the account's one budget of wrong
 * codes.
 */
export function totpFactor({ accounts, totp, audit, clock, totpKey, settings }: TotpDeps): Factor {
  const lock = codeLock('totp', { accounts, audit, clock, policy: settings.smsOtp });

  return {
    id: 'totp',
    stage: 'second',
    amr: ['otp'],
    actions: ['verify'],
    offer: { action: 'totp', label: 'totp.offer' },
    // Read with the account (its factors), so asking costs no statement of its own.
    enrolled: (account) => account.factors.some((f) => f.id === 'totp'),

    async show(ctx) {
      const locked = lock.lockedUntil(await ctx.account());
      if (locked) return lock.lockedView(locked);
      return { view: 'factors/totp/code', model: {} };
    },

    async submit(ctx, form): Promise<StepOutcome> {
      const account = await ctx.account();
      const locked = lock.lockedUntil(account);
      if (locked) return lock.lockedRetry(locked, 'TOTP_INCORRECT');
      const code = form.code ?? '';
      if (!code.trim()) return { kind: 'retry', message: 'TOTP_MISSING' };
      const credential = await totp.find(account.id);
      if (!credential) return { kind: 'retry', message: 'TOTP_NOT_SET_UP' };
      // A secret that does not open is not the user's doing (the server's secret changed): it costs
      // them no attempt, the page says to use another way, and the audit trail says why.
      const secret = unsealSecret(totpKey, credential.sealedSecret, account.id);
      if (secret === undefined) {
        await lock.event(ctx, 'login.totp', 'failure', 'secret_unreadable');
        return { kind: 'retry', message: 'TOTP_UNREADABLE' };
      }
      // Taken from the same budget of wrong codes as SMS codes, before the code is compared.
      const attempt = await lock.take(account);
      if (!attempt.taken) return lock.lockedRetry(attempt.lockedUntil, 'TOTP_INCORRECT');
      const now = clock.now();
      const step = matchingStep(secret, code, now);
      // `last_step < step` in the update: of two submissions of one code, one passes.
      const accepted = step !== undefined && (await totp.acceptStep(account.id, step, now));
      if (!accepted) {
        const lockedNow = await lock.wrong(ctx, attempt.failures, 'login.totp', step === undefined ? 'wrong_code' : 'code_replayed');
        return lockedNow ? lock.lockedRetry(lock.lockEnds(), 'TOTP_INCORRECT') : { kind: 'retry', message: 'TOTP_INCORRECT' };
      }
      await lock.right(account);
      await lock.event(ctx, 'login.totp', 'success');
      return { kind: 'passed', account };
    },
  };
}

export const totpModule: FactorModule<TotpDeps> = { id: 'totp', signInEvent: { event: 'login.totp', label: 'totp.name' }, messages: totpMessages, texts: totpTexts, translations: totpTranslations, info: totpInfo, build: totpFactor };
