import { z } from 'zod';
import { maskPhone } from '../../../shared/phone.ts';
import { codeLock, type CodeLockPolicy } from '../../code-lock.ts';
import type { Factor, FactorContext, FactorModule, StepOutcome } from '../../factor.ts';
import { codePageModel, type CodePagePolicy } from '../../sms-codes/code-page.ts';
import { smsCodeInfo, smsCodeMessages, smsCodeTexts } from '../../sms-codes/messages.ts';
import { smsCodeTranslations } from '../../sms-codes/translations.ts';
import { numberChecks, numberNotice, type NumberRules } from '../../sms-codes/number.ts';
import type { SmsCodeDeps } from '../../sms-codes/deps.ts';
import { sendNotice } from '../../sms-codes/sending.ts';
import { otpVerifier, type OtpVerifyPolicy } from '../../sms-codes/verification.ts';

export interface PhoneCapturePolicy extends CodeLockPolicy, CodePagePolicy, OtpVerifyPolicy {
  captureAndUpdateMobileNumber: boolean;
  phoneUnique: boolean;
}

export type PhoneCaptureDeps = SmsCodeDeps<{ smsOtp: PhoneCapturePolicy; sms: Pick<NumberRules, 'defaultCountry' | 'destinationAllowed'> }>;

// The number the user typed, waiting for the code sent to it.
const slot = z.object({ pendingPhone: z.string().max(32) });
type Slot = z.infer<typeof slot>;
type Outcome = StepOutcome<Slot>;

/**
 * A user with no second factor gives a mobile number at login and proves it with a code sent to it;
 * only that code saves the number (a backup code passes the login but never saves a number that
 * got no code). Switched off unless `smsOtp.captureAndUpdateMobileNumber`.
 */
export function phoneCaptureFactor({ accounts, otp, sending, audit, clock, otpHmacKey, settings }: PhoneCaptureDeps): Factor<Slot> | undefined {
  const policy = settings.smsOtp;
  if (!policy.captureAndUpdateMobileNumber) return undefined;
  const lock = codeLock('phone-capture', { accounts, audit, clock, policy });
  const codes = otpVerifier({ otp, clock, hmacKey: otpHmacKey, policy, lock });
  const numbers = numberChecks(accounts, { ...settings.sms, phoneUnique: policy.phoneUnique });

  async function acceptNumber(ctx: FactorContext<Slot>, accountId: string, input: string): Promise<Outcome> {
    const checked = await numbers.check(accountId, input);
    if (!checked.ok) return { kind: 'retry', message: numberNotice(checked.problem) };
    const result = await sending.resend(ctx, accountId, checked.e164);
    await lock.event(ctx, 'phone.captured', 'info', undefined, { destination: maskPhone(checked.e164, policy.maskVisibleDigits) });
    // Refused before anything went out: the number form stays, with the reason.
    return { kind: 'retry', ...sendNotice(result), slot: result.kind === 'refused' ? undefined : { pendingPhone: checked.e164 } };
  }

  return {
    id: 'phone-capture',
    stage: 'second',
    role: 'enrol',
    amr: ['sms'],
    slot,
    actions: ['number', 'change', 'resend', 'verify'],
    enrolled: () => false,

    async show(ctx) {
      const account = await ctx.account();
      const locked = lock.lockedUntil(account);
      if (locked) return lock.lockedView(locked);
      const pending = ctx.slot?.pendingPhone;
      if (!pending) return { view: 'factors/phone-capture/number', model: { countryHint: settings.sms.defaultCountry } };
      const challenge = await otp.find(ctx.uid);
      // A receipt may say the code never reached the number typed (a wrong one, or the provider's fault).
      const undelivered = challenge?.lastSend === 'sent' && challenge.destination === pending && (await sending.notDelivered(ctx.uid));
      return {
        view: 'factors/sms-otp/code',
        model: { ...codePageModel(challenge, pending, policy, clock), canChangeNumber: true },
        ...(undelivered ? { message: { message: 'SMS_NOT_DELIVERED' } } : {}),
      };
    },

    async submit(ctx, form): Promise<Outcome> {
      const account = await ctx.account();
      const locked = lock.lockedUntil(account);
      if (locked) return lock.lockedRetry(locked, 'CODE_INCORRECT_PLAIN');
      const pending = ctx.slot?.pendingPhone;
      if (form.action === 'number') return acceptNumber(ctx, account.id, form.phone ?? '');
      if (!pending) return { kind: 'retry', message: 'PHONE_MISSING' };
      if (form.action === 'change') return { kind: 'retry', message: 'PHONE_CHANGE', slot: null };
      if (form.action === 'resend') {
        if (!policy.resendEnable) return { kind: 'retry', message: 'RESEND_DISABLED' };
        return { kind: 'retry', ...sendNotice(await sending.resend(ctx, account.id, pending)) };
      }
      const check = await codes.verify(ctx, account, form.code ?? '', 'phone.verify');
      if (!check.ok) return codes.outcome(check);
      // With phoneUnique the save itself refuses a number another account has verified, even one
      // verified there a moment ago by a login racing this one: back to the number form.
      const saved = check.challenge.destination === pending && (await accounts.saveVerifiedPhone(account.id, pending, clock.now(), policy.phoneUnique));
      if (!saved) {
        // The code is spent on a number not saved: the user types another, and it gets a code.
        await otp.reopen(ctx.uid, clock.now());
        return { kind: 'retry', message: 'PHONE_UNAVAILABLE', slot: null };
      }
      await lock.event(ctx, 'phone.verified', 'success', undefined, { destination: maskPhone(pending, policy.maskVisibleDigits) });
      return { kind: 'passed', account, slot: null };
    },
  };
}

export const phoneCaptureModule: FactorModule<PhoneCaptureDeps> = { id: 'phone-capture', messages: smsCodeMessages, texts: smsCodeTexts, translations: smsCodeTranslations, info: smsCodeInfo, build: phoneCaptureFactor };
