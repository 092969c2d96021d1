import { z } from 'zod';
import { maskPhone } from '../../../shared/phone.ts';
import type { SmsSender } from '../../../sms/port.ts';
import { codeLock, type CodeLockPolicy } from '../../code-lock.ts';
import type { LoginContext } from '../../factor.ts';
import type { TextOf } from '../../messages.ts';
import type { Account } from '../../ports.ts';
import type { SmsCodeDeps } from '../../sms-codes/deps.ts';
import { numberChecks, numberNotice, type NumberCheck, type NumberRules } from '../../sms-codes/number.ts';
import { sendNotice, type SendResult } from '../../sms-codes/sending.ts';
import { otpVerifier, type CodeCheck, type OtpVerifyPolicy } from '../../sms-codes/verification.ts';

type Ctx = Pick<LoginContext, 'uid' | 'clientId' | 'ip' | 'flow' | 'language'>;

export type PhoneChangeStart =
  | { ok: true; phone: string }
  | { ok: false; reason: 'locked' | 'same' }
  | { ok: false; reason: 'number'; problem: (NumberCheck & { ok: false })['problem'] }
  | { ok: false; reason: 'send'; result: SendResult };

export type PhoneChangeFinish =
  | { ok: true }
  | { ok: false; reason: 'locked' | 'other-number' | 'taken' }
  | { ok: false; reason: 'code'; check: CodeCheck & { ok: false } };

export interface PhoneChangeDeps extends SmsCodeDeps<{ smsOtp: CodeLockPolicy & OtpVerifyPolicy & { phoneUnique: boolean; maskVisibleDigits: number }; sms: Pick<NumberRules, 'defaultCountry' | 'destinationAllowed'> }> {
  sender: SmsSender;
  serviceName: string;
  texts: TextOf;
}

/** The SMS factor's account-page half: a signed-in user changes the number their codes go to. */
export function phoneChange(deps: PhoneChangeDeps) {
  const { accounts, clock, settings } = deps;
  const policy = settings.smsOtp;
  const lock = codeLock('account', { accounts, audit: deps.audit, clock, policy });
  const codes = otpVerifier({ otp: deps.otp, clock, hmacKey: deps.otpHmacKey, policy, lock });
  const numbers = numberChecks(accounts, { ...settings.sms, phoneUnique: policy.phoneUnique });
  const mask = (phone: string | null) => maskPhone(phone, policy.maskVisibleDigits);

  return {
    /** Checks a new number and sends a code to it; it replaces the old one only once that code is entered. */
    async start(ctx: Ctx, account: Account, input: string): Promise<PhoneChangeStart> {
      // No SMS while the account's codes are locked.
      if (lock.lockedUntil(account)) return { ok: false, reason: 'locked' };
      const checked = await numbers.check(account.id, input);
      if (!checked.ok) return { ok: false, reason: 'number', problem: checked.problem };
      if (checked.e164 === account.phone) return { ok: false, reason: 'same' };
      // A resend when a code is already out for this change: the cooldown and caps hold across numbers.
      const result = await deps.sending.resend(ctx, account.id, checked.e164);
      if (result.kind !== 'sent') return { ok: false, reason: 'send', result };
      await lock.event(ctx, 'account.phone_change_started', 'info', undefined, { destination: mask(checked.e164) });
      return { ok: true, phone: checked.e164 };
    },

    /**
     * The code sent to the new number: saves it, and tells the old number in a separate SMS.
     * `beforeSave` runs once the code is right and before the number is saved (the sign-out of every
     * other session): should it fail, the number stays as it was. A change that loses its number to
     * another account's, saved in the meantime (phoneUnique), is `taken` and saves nothing, though
     * `beforeSave` has run.
     */
    async finish(ctx: Ctx, account: Account, pending: string, code: string, beforeSave: () => Promise<void>): Promise<PhoneChangeFinish> {
      if (lock.lockedUntil(account)) return { ok: false, reason: 'locked' };
      const check = await codes.verify(ctx, account, code, 'account.phone_verify');
      if (!check.ok) return { ok: false, reason: 'code', check };
      if (check.challenge.destination !== pending) return { ok: false, reason: 'other-number' };
      // The code is spent on a number not saved: another number typed next gets a code.
      const taken = async () => {
        await deps.otp.reopen(ctx.uid, clock.now());
        return { ok: false, reason: 'taken' } as const;
      };
      // Checked before the sign-out too, so that a number taken long ago signs nothing out; the save
      // checks again, as one step with it, for a change on another account racing this one.
      if (await numbers.takenElsewhere(account.id, pending)) return taken();
      const old = account.phone;
      await beforeSave();
      if (!(await accounts.saveVerifiedPhone(account.id, pending, clock.now(), policy.phoneUnique))) return taken();
      await lock.event(ctx, 'account.phone_changed', 'success', undefined, { from: mask(old), to: mask(pending) });
      if (old) {
        // An independent notice to the old number: if this was not its owner, they learn of it there.
        const text = deps.texts('NOTICE_PHONE_CHANGED', { service: deps.serviceName, number: mask(pending) }, ctx.language);
        await deps.sender.send({ to: old, text, purpose: 'notice', accountId: account.id, flowUid: ctx.uid })
          .catch(() => lock.event(ctx, 'account.phone_change_notice', 'failure', undefined, { destination: mask(old) }));
      }
      return { ok: true };
    },

    /** What the page says about a change that did not go through (the edge of this factor). */
    notice(result: (PhoneChangeStart | PhoneChangeFinish) & { ok: false }): { message: string; params?: Record<string, string | number> } {
      switch (result.reason) {
        case 'locked': return { message: 'OTP_LOCKED_PLAIN' };
        case 'same': return { message: 'PHONE_SAME' };
        case 'number': return { message: numberNotice(result.problem) };
        case 'taken': return { message: 'PHONE_UNAVAILABLE' };
        case 'other-number': return { message: 'CODE_DEAD' };
        case 'send': return sendNotice(result.result);
        case 'code': {
          const outcome = codes.outcome(result.check);
          return { message: outcome.message, params: outcome.kind === 'retry' ? outcome.params : undefined };
        }
      }
    },
  };
}

export type PhoneChange = ReturnType<typeof phoneChange>;

/** The number a change is waiting to verify, in the change's flow. */
export const pendingNumberSlot = z.object({ pendingPhone: z.string().max(32) });
