import { maskPhone } from '../shared/phone.ts';
import type { SmsSender } from '../sms/port.ts';
import type { TextOf } from './messages.ts';
import type { Account, AuditLog } from './ports.ts';

export interface AccountNoticeDeps {
  sender: SmsSender;
  audit: AuditLog;
  serviceName: string;
  texts: TextOf;
  /** Digits of the number left visible in the audit record of a notice that failed. */
  maskVisibleDigits: number;
}

/** Who made the change: the account page's client and address, and the language of its page. */
type Ctx = { clientId: string; ip: string | null; language?: string | undefined };

/** Tells the account's verified number that a way to sign in was added or removed (`change`: the text key of the whole SMS, such as `NOTICE_PASSKEY_ADDED`, which takes `{service}`). */
export type AccountNotice = (ctx: Ctx, account: Account, change: string) => Promise<void>;

/**
 * As a new number is told to the old one: whoever made the change without the owner, the owner
 * learns of it on their phone. The text names the change only, never a code or a secret. A notice
 * that fails does not undo the change; it is recorded.
 */
export function accountNotice(deps: AccountNoticeDeps): AccountNotice {
  return async (ctx, account, change) => {
    const to = account.phoneVerifiedAt ? account.phone : null;
    if (!to) return;
    const text = deps.texts(change, { service: deps.serviceName }, ctx.language);
    await deps.sender.send({ to, text, purpose: 'notice', accountId: account.id }).catch(() => deps.audit.record({
      event: 'account.factor_notice', result: 'failure', step: 'account', accountId: account.id, clientId: ctx.clientId, ip: ctx.ip,
      detail: { destination: maskPhone(to, deps.maskVisibleDigits) },
    }));
  };
}
