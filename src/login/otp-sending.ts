import type { KeyObject } from 'node:crypto';
import { addSeconds, type Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import { maskPhone } from '../shared/phone.ts';
import type { Random } from '../shared/random.ts';
import { SmsDeliveryError, SmsDestinationError, type SmsSender } from '../sms/port.ts';
import type { MessageCode } from './messages.ts';
import { codeHmac, generateCode } from './otp-codes.ts';
import type { AuditLog, OtpChallenge, OtpStore, SmsLog } from './ports.ts';
import type { LoginState } from './types.ts';

export interface OtpSendPolicy {
  tokenLength: number;
  alphanumeric: boolean;
  tokenExpirySeconds: number;
  maxResends: number;
  resendCooldownSeconds: number;
  userSendLimit: number;
  userSendWindowSeconds: number;
  maskVisibleDigits: number;
  message: string;
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
  /** Velocity limits beyond the account's budget: per requesting address and for everyone. */
  velocity: { windowSeconds: number; ipSendLimit: number; globalSendLimit: number };
}

export function smsText(template: string, values: { code: string; service: string; minutes: number; host: string }): string {
  // A function replacer: `$` in a template or a value is never a substitution pattern.
  return template.replace(/\{(code|service|minutes|host)\}/g, (_, name: keyof typeof values) => String(values[name]));
}

/** What the user is told about a code not sent (or not yet), and the numbers the text needs. */
export interface SendProblem {
  message: MessageCode;
  params?: Record<string, number>;
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
  async function deliver(state: LoginState, accountId: string, to: string, code: { code: string; hmac: string }, logId: string, event: string, replaced?: OtpChallenge): Promise<MessageCode | undefined> {
    const text = smsText(policy.message, { code: code.code, service: deps.serviceName, minutes: Math.ceil(policy.tokenExpirySeconds / 60), host: deps.issuerHost });
    const detail = { destination: maskPhone(to, policy.maskVisibleDigits) };
    try {
      await deps.sender.send({ to, text, code: code.code, purpose: 'otp', accountId, flowUid: state.uid, logId });
      await deps.audit.record({ event, result: 'success', step: 'sms-otp', accountId, clientId: state.clientId, flowUid: state.uid, ip: state.ip, detail });
      return undefined;
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
      return refused ? 'SMS_DESTINATION_REFUSED' : uncertain ? 'SMS_UNCERTAIN' : restore ? 'RESEND_FAILED' : 'SMS_NOT_SENT';
    }
  }

  const refusals = { account: ['user_send_limit', 'SEND_LIMIT'], ip: ['ip_send_limit', 'SEND_BUSY'], global: ['global_send_limit', 'SEND_BUSY'] } as const;

  /** One SMS from the budgets (the account's, the address's, everyone's), or the message saying why not. */
  async function reserve(state: LoginState, accountId: string, to: string): Promise<{ id: string } | SendProblem> {
    const now = clock.now();
    const velocitySince = addSeconds(now, -deps.velocity.windowSeconds);
    const result = await deps.smsLog.reserve({
      accountId, flowUid: state.uid, destination: maskPhone(to, policy.maskVisibleDigits), ip: state.ip, at: now,
      account: { since: addSeconds(now, -policy.userSendWindowSeconds), limit: policy.userSendLimit },
      perIp: { since: velocitySince, limit: deps.velocity.ipSendLimit },
      global: { since: velocitySince, limit: deps.velocity.globalSendLimit },
    });
    if ('id' in result) return result;
    const [reason, message] = refusals[result.refused];
    await deps.audit.record({ event: 'sms.blocked', result: 'failure', step: 'sms-otp', reason, accountId, clientId: state.clientId, flowUid: state.uid, ip: state.ip });
    const window = result.refused === 'account' ? policy.userSendWindowSeconds : deps.velocity.windowSeconds;
    const retryAt = result.retryAt ?? addSeconds(now, window);
    return { message, params: { minutes: Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 60_000)) } };
  }

  function newCode(uid: string) {
    const code = generateCode(deps.random, policy.tokenLength, policy.alphanumeric);
    return { code, hmac: codeHmac(deps.hmacKey, uid, code) };
  }

  /** The first code of a login that has none yet (the caller read that it has none). */
  async function sendNew(state: LoginState, accountId: string, to: string): Promise<{ challenge: OtpChallenge | undefined; problem?: SendProblem }> {
    const reservation = await reserve(state, accountId, to);
    if ('message' in reservation) return { challenge: undefined, problem: reservation };
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
    const problem = await deliver(state, accountId, to, code, logId, 'sms.sent');
    // A failed send marked the challenge; read it back then (rare), not on every login.
    return problem ? { challenge: await otp.find(state.uid), problem: { message: problem } } : { challenge: created };
  }

  return {
    /**
     * The first code of this login, and the login's challenge as it then stands. Sends nothing if one
     * was already sent (a reload, a second tab).
     */
    async sendFirst(state: LoginState, accountId: string, to: string): Promise<{ challenge: OtpChallenge | undefined; problem?: SendProblem }> {
      const existing = await otp.find(state.uid);
      return existing ? { challenge: existing } : sendNew(state, accountId, to);
    },

    /**
     * A new code replacing the old one, or the first if the login has none, to `to` (the same number,
     * or a number changed during phone capture: the same budgets apply). The count of wrong codes on
     * the account is not reset.
     */
    async resend(state: LoginState, accountId: string, to: string): Promise<SendProblem> {
      const challenge = await otp.find(state.uid);
      if (!challenge) return (await sendNew(state, accountId, to)).problem ?? { message: 'CODE_SENT' };
      const now = clock.now();
      if (challenge.sends - 1 >= policy.maxResends) return { message: 'RESEND_LIMIT' };
      const wait = resendWait(challenge, now, policy.resendCooldownSeconds);
      if (wait > 0) return { message: 'RESEND_TOO_SOON', params: { seconds: wait } };
      const reservation = await reserve(state, accountId, to);
      if ('message' in reservation) return reservation;
      const logId = reservation.id;
      const code = newCode(state.uid);
      const replacement = { codeHmac: code.hmac, destination: to, expiresAt: addSeconds(now, policy.tokenExpirySeconds), sentAt: now };
      // Conditional on the send count we saw: of two racing resends, only one sends.
      const replaced = await otp.replaceCode(state.uid, replacement, challenge.sends);
      if (!replaced) {
        await deps.smsLog.release(logId);
        return { message: 'CODE_RESENT' };
      }
      return { message: (await deliver(state, accountId, to, code, logId, 'sms.resent', replaced)) ?? 'CODE_RESENT' };
    },
  };
}

export type OtpSending = ReturnType<typeof otpSending>;
