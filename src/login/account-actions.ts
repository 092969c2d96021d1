import type { Clock } from '../shared/clock.ts';
import { maskPhone, normalizeMobile } from '../shared/phone.ts';
import type { Random } from '../shared/random.ts';
import type { SmsSender } from '../sms/port.ts';
import { BACKUP_CODE_COUNT, issueBackupCodes } from './backup-codes.ts';
import type { MessageCode } from './messages.ts';
import type { OtpSending } from './otp-sending.ts';
import type { Verification } from './otp-verification.ts';
import type { Account, AccountStore, AuditEvent, AuditLog, BackupCodeStore } from './ports.ts';
import { lockedUntil } from './second-factor.ts';
import type { LoginState } from './types.ts';

const REAUTH_SECONDS = 5 * 60;

interface Deps {
  accounts: AccountStore;
  backupCodes: BackupCodeStore & { replaceAll(accountId: string, hashes: string[]): Promise<void> };
  hasher: { hash(secret: string): Promise<string> };
  sending: OtpSending;
  verify(state: LoginState, account: Account, input: string): Promise<Verification>;
  sender: SmsSender;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  serviceName: string;
  phoneUnique: boolean;
  /** Digits of a number left visible on pages, messages and records. */
  maskDigits: number;
  defaultCountry: string | undefined;
  destinationAllowed(e164: string): boolean;
}

/** What a signed-in user can do to their own factors on the account page. */
export function accountActions(deps: Deps) {
  const { accounts, clock } = deps;
  const mask = (phone: string | null) => maskPhone(phone, deps.maskDigits);
  const event = (state: LoginState, name: string, result: 'success' | 'failure' | 'info', detail?: Record<string, unknown>) =>
    deps.audit.record({ event: name, result, step: 'account', accountId: state.accountId, clientId: state.clientId, flowUid: state.uid, ip: state.ip, detail });

  return {
    /**
     * Whether the last full sign-in (with the second factor) is recent enough for a change. The sign-in
     * time comes from the provider's session, on the provider's (real) clock, so it is compared to that.
     */
    recentlyAuthenticated(loginTs: number | undefined, nowSeconds = Date.now() / 1000): boolean {
      return loginTs !== undefined && nowSeconds - loginTs <= REAUTH_SECONDS;
    },

    /** Checks a new number and sends a code to it; it replaces the old one only once that code is entered. */
    async startPhoneChange(state: LoginState, account: Account, input: string): Promise<{ ok: true; phone: string } | { ok: false; message: MessageCode; params?: Record<string, number> }> {
      // No SMS while the account's codes are locked.
      if (lockedUntil(account, clock.now())) return { ok: false, message: 'OTP_LOCKED_PLAIN' };
      const parsed = normalizeMobile(input.slice(0, 64), deps.defaultCountry);
      if (!input.trim()) return { ok: false, message: 'PHONE_MISSING' };
      if (!parsed.ok) return { ok: false, message: parsed.problem === 'NOT_MOBILE' ? 'PHONE_NOT_MOBILE' : 'PHONE_INVALID' };
      if (!deps.destinationAllowed(parsed.e164)) return { ok: false, message: 'PHONE_COUNTRY_REFUSED' };
      if (parsed.e164 === account.phone) return { ok: false, message: 'PHONE_SAME' };
      if (deps.phoneUnique && (await accounts.findIdsByVerifiedPhone(parsed.e164)).some((id) => id !== account.id)) {
        return { ok: false, message: 'PHONE_UNAVAILABLE' };
      }
      // A resend when a code is already out for this change: the cooldown and caps hold across numbers.
      const sent = await deps.sending.resend(state, account.id, parsed.e164);
      if (sent.message !== 'CODE_SENT' && sent.message !== 'CODE_RESENT') return { ok: false, message: sent.message, params: sent.params };
      await event(state, 'account.phone_change_started', 'info', { destination: mask(parsed.e164) });
      return { ok: true, phone: parsed.e164 };
    },

    /**
     * The code sent to the new number: saves it, and tells the old number in a separate SMS.
     * `beforeSave` runs once the code is right and before the number is saved (the sign-out of every
     * other session): should it fail, the number stays as it was.
     */
    async finishPhoneChange(state: LoginState, account: Account, pending: string, code: string, beforeSave: () => Promise<void> = async () => {}): Promise<{ ok: true } | { ok: false; message: MessageCode; params?: Record<string, string | number> }> {
      if (lockedUntil(account, clock.now())) return { ok: false, message: 'OTP_LOCKED_PLAIN' };
      const result = await deps.verify(state, account, code);
      if (!result.ok) {
        const outcome = result.outcome;
        return { ok: false, message: outcome.kind === 'retry' || outcome.kind === 'failed' ? outcome.message : 'CODE_DEAD', params: outcome.kind === 'retry' ? outcome.params : undefined };
      }
      if (result.challenge.destination !== pending) return { ok: false, message: 'CODE_DEAD' };
      if (deps.phoneUnique && (await accounts.findIdsByVerifiedPhone(pending)).some((id) => id !== account.id)) {
        return { ok: false, message: 'PHONE_UNAVAILABLE' };
      }
      const old = account.phone;
      await beforeSave();
      await accounts.setPhone(account.id, pending, clock.now());
      await event(state, 'account.phone_changed', 'success', { from: mask(old), to: mask(pending) });
      if (old) {
        // An independent notice to the old number: if this was not its owner, they learn of it there.
        const text = `Your ${deps.serviceName} sign-in number was changed to ${mask(pending)}. If you did not do this, contact your administrator now.`;
        await deps.sender.send({ to: old, text, purpose: 'notice', accountId: account.id, flowUid: state.uid })
          .catch(() => event(state, 'account.phone_change_notice', 'failure', { destination: mask(old) }));
      }
      return { ok: true };
    },

    /** A fresh set of backup codes; the old ones stop working at once. */
    async regenerateBackupCodes(state: LoginState, account: Account): Promise<string[]> {
      const codes = await issueBackupCodes(deps.backupCodes, deps.hasher, deps.random, account.id);
      await event(state, 'account.backup_codes_generated', 'success', { count: BACKUP_CODE_COUNT });
      return codes;
    },
  };
}

export type AccountActions = ReturnType<typeof accountActions>;

const signInSteps: Record<string, string> = { 'login.password': 'password', 'login.sms_otp': 'SMS code', 'login.backup_code': 'backup code', 'login.locked': 'password' };

/** The account page's "recent sign-ins": completed logins with their factors, and failed steps. */
export function describeSignIns(events: (AuditEvent & { at: Date })[], limit = 10) {
  return events
    .filter((e) => e.event === 'login.completed' || (e.result === 'failure' && Object.hasOwn(signInSteps, e.event)))
    .slice(0, limit)
    .map((e) => ({
      at: e.at,
      ip: e.ip ?? null,
      result: e.result === 'success' ? 'signed in' : `failed (${e.reason ?? 'refused'})`,
      factor: e.event === 'login.completed'
        ? ((e.detail?.amr as string[] | undefined) ?? []).filter((v) => v !== 'mfa').join(' + ')
        : signInSteps[e.event] ?? e.event,
    }));
}
