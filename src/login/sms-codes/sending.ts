import type { KeyObject } from 'node:crypto';
import { addSeconds, type Clock } from '../../shared/clock.ts';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import { maskedPrefix, maskPhone } from '../../shared/phone.ts';
import type { Random } from '../../shared/random.ts';
import { SmsDeliveryError, SmsDestinationError, type SmsSender } from '../../sms/port.ts';
import type { AuditLog } from '../ports.ts';
import { codeHmac, generateCode } from '../one-time-codes.ts';
import { smsReservation, type SmsBudgetPolicy } from './budgets.ts';
import type { TextOf } from '../messages.ts';
import type { SmsCodeMessage } from './messages.ts';
import type { OtpChallenge, OtpStore, SmsDeliveries, SmsLog } from './ports.ts';

export interface OtpSendPolicy {
  tokenLength: number;
  alphanumeric: boolean;
  tokenExpirySeconds: number;
  maxResends: number;
  resendCooldownSeconds: number;
  maskVisibleDigits: number;
  /** The operator's SMS text (`smsOtp.message`); when unset, the catalogue's `SMS_CODE` in the login's language. */
  message?: string | undefined;
}

export interface OtpSendingDeps {
  otp: OtpStore;
  smsLog: SmsLog;
  sender: SmsSender;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  hmacKey: KeyObject;
  policy: OtpSendPolicy;
  serviceName: string;
  issuerHost: string;
  /** Every budget beyond the login's cooldown, and the pumping breaker (budgets.ts). */
  budgets: SmsBudgetPolicy;
  /** Keys the HMAC a number is counted under. */
  numberKey: KeyObject;
  log: Logger;
  /** What the providers' delivery receipts said; without it, nothing is known past "sent". */
  deliveries?: SmsDeliveries | undefined;
  texts: TextOf;
}

export function smsText(template: string, values: { code: string; service: string; minutes: number; host: string }): string {
  // A function replacer: `$` in a template or a value is never a substitution pattern.
  return template.replace(/\{(code|service|minutes|host)\}/g, (_, name: keyof typeof values) => String(values[name]));
}

/**
 * What became of asking for a code. `refused`: nothing was sent (a cooldown, the resend cap, or a
 * budget; `waitSeconds` until one frees at the earliest). `failed`: the gateway failed; `uncertain`
 * when the SMS may still arrive, `destinationRefused` when the number cannot get SMS, and
 * `previousCodeWorks` when a resend failed and the code sent before was given back.
 */
export type SendResult =
  | { kind: 'sent'; resent: boolean }
  | { kind: 'refused'; reason: 'too-soon' | 'resend-limit' | 'budget' | 'range-paused'; waitSeconds?: number }
  | { kind: 'failed'; uncertain: boolean; destinationRefused: boolean; previousCodeWorks: boolean };

/** Who asked for the code: the login (or account-page change) it is for, and the language of its page. */
export interface SendContext {
  uid: string;
  clientId: string;
  ip: string | null;
  language?: string | undefined;
}

/** The message a page shows for a send's result (at the factors' edge). */
export function sendNotice(result: SendResult): { message: SmsCodeMessage; params?: Record<string, number> } {
  switch (result.kind) {
    case 'sent':
      return { message: result.resent ? 'CODE_RESENT' : 'CODE_SENT' };
    case 'refused': {
      const minutes = Math.max(1, Math.ceil((result.waitSeconds ?? 60) / 60));
      if (result.reason === 'too-soon') return { message: 'RESEND_TOO_SOON', params: { seconds: result.waitSeconds ?? 0 } };
      if (result.reason === 'resend-limit') return { message: 'RESEND_LIMIT' };
      if (result.reason === 'range-paused') return { message: 'SMS_RANGE_PAUSED' };
      // One message for every budget: which one was spent would tell an attacker what to vary.
      return { message: 'SEND_LIMIT', params: { minutes } };
    }
    case 'failed':
      if (result.destinationRefused) return { message: 'SMS_DESTINATION_REFUSED' };
      if (result.uncertain) return { message: 'SMS_UNCERTAIN' };
      return { message: result.previousCodeWorks ? 'RESEND_FAILED' : 'SMS_NOT_SENT' };
  }
}

/**
 * Seconds before another code may be sent: the cooldown doubles with each resend; none after a
 * send that surely did not go out (it spent nothing, so asking again at once costs nothing either).
 */
export function resendWait(challenge: OtpChallenge, now: Date, cooldownSeconds: number): number {
  if (challenge.lastSend === 'failed' || challenge.lastSend === 'refused') return 0;
  const cooldown = cooldownSeconds * 2 ** Math.max(0, challenge.sends - 1);
  return Math.max(0, Math.ceil((challenge.lastSentAt.getTime() + cooldown * 1000 - now.getTime()) / 1000));
}

/** Sends the first code of a login, or a new one replacing it, within every budget. */
export function otpSending(deps: OtpSendingDeps) {
  const { otp, policy, clock } = deps;

  /**
   * Sends `code` and records what became of it. `replaced` is the code a resend replaced: when the new
   * one surely did not go out and the old one did, to the same number, the old one is given back.
   */
  async function deliver(state: SendContext, accountId: string, to: string, code: { code: string; hmac: string }, logId: string, event: string, replaced?: OtpChallenge): Promise<SendResult> {
    const values = { code: code.code, service: deps.serviceName, minutes: Math.ceil(policy.tokenExpirySeconds / 60), host: deps.issuerHost };
    const text = policy.message ? smsText(policy.message, values) : deps.texts('SMS_CODE', values, state.language);
    const detail = { destination: maskPhone(to, policy.maskVisibleDigits) };
    try {
      await deps.sender.send({ to, text, code: code.code, purpose: 'otp', accountId, flowUid: state.uid, logId });
      await deps.audit.record({ event, result: 'success', step: 'sms-otp', accountId, clientId: state.clientId, flowUid: state.uid, ip: state.ip, detail });
      return { kind: 'sent', resent: replaced !== undefined };
    } catch (err) {
      const refused = err instanceof SmsDestinationError;
      // Nothing went out for a refused number: its reservation is given back.
      if (refused) await deps.smsLog.release(logId);
      // A send that surely failed is not counted and waives the cooldown; after a timeout the SMS may
      // still arrive, so it counts and the cooldown holds. (The send log gave the budgets back.)
      const uncertain = err instanceof SmsDeliveryError && err.mayHaveSent;
      const restore = !refused && !uncertain && replaced && replaced.destination === to && replaced.lastSend !== 'failed' && replaced.lastSend !== 'refused';
      if (restore) await otp.restoreCode(state.uid, code.hmac, replaced);
      else await otp.recordSendOutcome(state.uid, code.hmac, refused ? 'refused' : uncertain ? 'uncertain' : 'failed');
      await deps.audit.record({ event: 'sms.failed', result: 'failure', step: 'sms-otp', reason: refused ? 'destination_refused' : uncertain ? 'gateway_uncertain' : 'gateway', accountId, clientId: state.clientId, flowUid: state.uid, ip: state.ip, detail });
      return { kind: 'failed', uncertain, destinationRefused: refused, previousCodeWorks: Boolean(restore) };
    }
  }

  // For operators (the audit trail): which budget it was.
  const refusals = {
    login: 'login_send_limit', account: 'user_send_limit', number: 'number_send_limit', prefix: 'prefix_send_limit',
    address: 'ip_send_limit', country: 'country_send_limit', hour: 'global_send_limit', day: 'daily_send_limit', backoff: 'send_backoff',
  } as const;

  /** One SMS from every budget, or the refusal saying (to the user) only that none can be sent now. */
  async function reserve(state: SendContext, accountId: string, to: string): Promise<{ id: string } | (SendResult & { kind: 'refused' })> {
    const now = clock.now();
    const result = await deps.smsLog.reserve(smsReservation(deps.budgets, deps.numberKey, deps.random, {
      accountId, flowUid: state.uid, ip: state.ip, destination: maskPhone(to, policy.maskVisibleDigits), to, now,
    }));
    if ('id' in result) return result;
    const audit = { event: 'sms.blocked', result: 'failure', step: 'sms-otp', accountId, clientId: state.clientId, flowUid: state.uid, ip: state.ip } as const;
    if (result.refused === 'paused') {
      const range = result.scope === 'prefix' ? maskedPrefix(result.range, deps.budgets.prefix.hiddenDigits) : result.range;
      if (result.pausedNow) {
        const { sent, entered } = result.pausedNow;
        deps.log.warn({ scope: result.scope, range, sent, entered, ratio: Number((entered / sent).toFixed(3)) }, 'sms pumping suspected: codes to this range are rarely entered, so sending to it is paused (keystep abuse resume lifts it)');
      }
      await deps.audit.record({ ...audit, reason: `${result.scope}_paused`, detail: { range } });
      return { kind: 'refused', reason: 'range-paused' };
    }
    await deps.audit.record({ ...audit, reason: refusals[result.refused] });
    const retryAt = result.retryAt ?? addSeconds(now, 60);
    const waitSeconds = Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000));
    return { kind: 'refused', reason: 'budget', waitSeconds };
  }

  function newCode(uid: string) {
    const code = generateCode(deps.random, policy.tokenLength, policy.alphanumeric);
    return { code, hmac: codeHmac(deps.hmacKey, uid, code) };
  }

  /** The first code of a login that has none yet (the caller read that it has none). */
  async function sendNew(state: SendContext, accountId: string, to: string): Promise<{ challenge: OtpChallenge | undefined; result?: SendResult }> {
    const reservation = await reserve(state, accountId, to);
    if ('kind' in reservation) return { challenge: undefined, result: reservation };
    const logId = reservation.id;
    const now = clock.now();
    const code = newCode(state.uid);
    const created = await otp.create({ flowUid: state.uid, accountId, destination: to, codeHmac: code.hmac, expiresAt: addSeconds(now, policy.tokenExpirySeconds), lastSentAt: now });
    if (!created) {
      // Another request of this login created it first (and sent its code), or ended the login.
      await deps.smsLog.release(logId);
      const existing = await otp.find(state.uid);
      if (!existing) throw new AppError(400, 'LOGIN_EXPIRED');
      return { challenge: existing };
    }
    const result = await deliver(state, accountId, to, code, logId, 'sms.sent');
    // A failed send marked the challenge; read it back then (rare), not on every login.
    return result.kind === 'failed' ? { challenge: await otp.find(state.uid), result } : { challenge: created, result };
  }

  return {
    /** Whether a receipt said this login's newest code did not reach the phone. */
    async notDelivered(uid: string): Promise<boolean> {
      const delivery = await deps.deliveries?.lastDelivery(uid);
      return delivery === 'undelivered' || delivery === 'failed';
    },

    /**
     * The first code of this login, and the login's challenge as it then stands. Sends nothing if one
     * was already sent (a reload, a second tab).
     */
    async sendFirst(state: SendContext, accountId: string, to: string): Promise<{ challenge: OtpChallenge | undefined; result?: SendResult }> {
      const existing = await otp.find(state.uid);
      return existing ? { challenge: existing } : sendNew(state, accountId, to);
    },

    /**
     * A new code replacing the old one, or the first if the login has none, to `to` (the same number,
     * or a number changed during phone capture: the same budgets apply). The count of wrong codes on
     * the account is not reset.
     */
    async resend(state: SendContext, accountId: string, to: string): Promise<SendResult> {
      const challenge = await otp.find(state.uid);
      if (!challenge) return (await sendNew(state, accountId, to)).result ?? { kind: 'sent', resent: false };
      const now = clock.now();
      if (challenge.sends - 1 >= policy.maxResends) return { kind: 'refused', reason: 'resend-limit' };
      const wait = resendWait(challenge, now, policy.resendCooldownSeconds);
      if (wait > 0) return { kind: 'refused', reason: 'too-soon', waitSeconds: wait };
      const reservation = await reserve(state, accountId, to);
      if ('kind' in reservation) return reservation;
      const logId = reservation.id;
      const code = newCode(state.uid);
      const replacement = { codeHmac: code.hmac, destination: to, expiresAt: addSeconds(now, policy.tokenExpirySeconds), sentAt: now };
      // Conditional on the send count we saw: of two racing resends, only one sends.
      const replaced = await otp.replaceCode(state.uid, replacement, challenge.sends);
      if (!replaced) {
        await deps.smsLog.release(logId);
        return { kind: 'sent', resent: true };
      }
      return deliver(state, accountId, to, code, logId, 'sms.resent', replaced);
    },
  };
}

export type OtpSending = ReturnType<typeof otpSending>;
