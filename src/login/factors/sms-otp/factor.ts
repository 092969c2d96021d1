import { maskPhone } from '../../../shared/phone.ts';
import { codeLock, type CodeLockPolicy } from '../../code-lock.ts';
import type { Factor, FactorModule, StepOutcome } from '../../factor.ts';
import type { Account } from '../../ports.ts';
import { codePageModel, type CodePagePolicy } from '../../sms-codes/code-page.ts';
import { smsCodeInfo, smsCodeMessages } from '../../sms-codes/messages.ts';
import type { SmsCodeDeps } from '../../sms-codes/deps.ts';
import { sendNotice } from '../../sms-codes/sending.ts';
import { otpVerifier, type OtpVerifyPolicy } from '../../sms-codes/verification.ts';

export interface SmsOtpPolicy extends CodeLockPolicy, CodePagePolicy, OtpVerifyPolicy {}

export type SmsOtpDeps = SmsCodeDeps<{ smsOtp: SmsOtpPolicy }>;

export function hasVerifiedPhone(account: Account): account is Account & { phone: string } {
  return account.phone !== null && account.phoneVerifiedAt !== null;
}

/** A code sent by SMS to the account's verified number. */
export function smsOtpFactor({ accounts, otp, sending, audit, clock, otpHmacKey, settings }: SmsOtpDeps): Factor {
  const policy = settings.smsOtp;
  const lock = codeLock('sms-otp', { accounts, audit, clock, policy });
  const codes = otpVerifier({ otp, clock, hmacKey: otpHmacKey, policy, lock });

  return {
    id: 'sms-otp',
    stage: 'second',
    amr: ['sms'],
    actions: ['verify', 'resend'],
    offer: { action: 'sms', label: 'Get a code by text message instead' },
    enrolled: hasVerifiedPhone,

    async show(ctx) {
      const account = await ctx.account();
      // The chain picks this factor only for a verified number; one removed since reads as locked out.
      if (!hasVerifiedPhone(account)) return { view: 'second-factor-unavailable', model: {}, message: { message: 'NO_SECOND_FACTOR' } };
      const locked = lock.lockedUntil(account);
      // No SMS is sent to a locked account.
      if (locked) return lock.lockedView(locked);
      const { challenge, result } = await sending.sendFirst(ctx, account.id, account.phone);
      // A code that went to another number (see submit) is no use here: a new one goes to this number.
      const elsewhere = challenge && challenge.destination !== account.phone;
      const problem = result && result.kind !== 'sent' ? sendNotice(result) : undefined;
      // A receipt may have come since the code was sent: the page says so, and offers a new code.
      const undelivered = !problem && !elsewhere && challenge?.lastSend === 'sent' && (await sending.notDelivered(ctx.uid));
      return {
        view: 'factors/sms-otp/code',
        model: codePageModel(elsewhere ? undefined : challenge, account.phone, policy, clock),
        message: problem ?? (elsewhere ? { message: 'CODE_DEAD' } : undelivered ? { message: 'SMS_NOT_DELIVERED' } : undefined),
      };
    },

    async submit(ctx, form): Promise<StepOutcome> {
      const account = await ctx.account();
      const locked = lock.lockedUntil(account);
      if (locked) return lock.lockedRetry(locked, 'CODE_INCORRECT_PLAIN');
      if (!hasVerifiedPhone(account)) return { kind: 'retry', message: 'NO_SECOND_FACTOR' };
      if (form.action === 'resend') {
        if (!policy.resendEnable) return { kind: 'retry', message: 'RESEND_DISABLED' };
        return { kind: 'retry', ...sendNotice(await sending.resend(ctx, account.id, account.phone)) };
      }
      const check = await codes.verify(ctx, account, form.code ?? '', 'login.sms_otp');
      if (!check.ok) return codes.outcome(check);
      // Only a code sent to the account's own number proves it (a number typed in another login's
      // phone capture may have been sent a code for this login before this number was verified).
      if (check.challenge.destination !== account.phone) return { kind: 'retry', message: 'CODE_DEAD' };
      await lock.event(ctx, 'login.sms_otp', 'success', undefined, { destination: maskPhone(check.challenge.destination, policy.maskVisibleDigits) });
      return { kind: 'passed', account };
    },
  };
}

export const smsOtpModule: FactorModule<SmsOtpDeps> = { id: 'sms-otp', signInEvent: { event: 'login.sms_otp', label: 'SMS code' }, messages: smsCodeMessages, info: smsCodeInfo, build: smsOtpFactor };
