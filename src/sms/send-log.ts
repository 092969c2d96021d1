import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/log.ts';
import { maskPhone } from '../shared/phone.ts';
import { storableText } from '../shared/text.ts';
import { SmsDeliveryError, type SendRecord, type SmsSender } from './port.ts';

export type { SendRecord };

// Whatever an adapter hands back ends up in a text column and the log.
const storableOrNull = (text: string | undefined, max: number) => (text === undefined ? null : storableText(text, max));


/**
 * Wraps any sender so every SMS is recorded for operators (masked number, status, the provider's
 * message id, duration) and logged without its text or the full number. The send budgets count
 * these records by status (see SendStatus): a send that never reached the gateway costs nothing.
 */
export function withSendLog(sender: SmsSender, record: (r: SendRecord) => Promise<void>, clock: Clock, log: Logger): SmsSender {
  return {
    async send(message) {
      const at = clock.now();
      const started = performance.now();
      const base = { id: message.logId, at, accountId: message.accountId ?? null, flowUid: message.flowUid ?? null, purpose: message.purpose, destination: maskPhone(message.to) };
      let outcome: { receipt: Awaited<ReturnType<SmsSender['send']>> } | { error: SmsDeliveryError };
      try {
        outcome = { receipt: await sender.send(message) };
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        outcome = { error: err instanceof SmsDeliveryError ? err : new SmsDeliveryError(reason, undefined, { cause: err }) };
      }
      const durationMs = Math.round(performance.now() - started);
      const messageId = 'receipt' in outcome ? storableOrNull(outcome.receipt.messageId, 200) : null;
      // Recording happens after the send, outside it: a failing database must not turn a sent SMS
      // into a "not sent" one (the user would ask again and get a second SMS).
      const record$ = 'receipt' in outcome
        ? record({ ...base, status: 'sent', httpStatus: outcome.receipt.status ?? null, providerMessageId: messageId, gateway: outcome.receipt.gateway ?? null, durationMs })
        : record({ ...base, status: outcome.error.sendStatus, httpStatus: outcome.error.status ?? null, gateway: outcome.error.gateway ?? null, error: storableText(outcome.error.message, 500), durationMs });
      await record$.catch((err: unknown) => log.error({ err, to: base.destination }, 'could not record an sms send'));
      if ('receipt' in outcome) {
        log.info({ to: base.destination, purpose: message.purpose, gateway: outcome.receipt.gateway, status: outcome.receipt.status, messageId, durationMs }, 'sms sent');
        return outcome.receipt;
      }
      log.warn({ to: base.destination, purpose: message.purpose, gateway: outcome.error.gateway, status: outcome.error.status, outcome: outcome.error.sendStatus, durationMs, reason: storableText(outcome.error.message, 1500) }, 'sms not sent');
      throw outcome.error;
    },
  };
}
