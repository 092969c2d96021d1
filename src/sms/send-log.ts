import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/log.ts';
import { maskPhone } from '../shared/phone.ts';
import { SmsDeliveryError, type SendRecord, type SmsSender } from './port.ts';

export type { SendRecord };


/**
 * Wraps any sender so every SMS is recorded for operators (masked number, status, the provider's
 * message id, duration) and logged without its text or the full number. The per-account send
 * budget counts these records.
 */
export function withSendLog(sender: SmsSender, record: (r: SendRecord) => Promise<void>, clock: Clock, log: Logger): SmsSender {
  return {
    async send(message) {
      const at = clock.now();
      const started = performance.now();
      const base = { id: message.logId, at, accountId: message.accountId ?? null, flowUid: message.flowUid ?? null, purpose: message.purpose, destination: maskPhone(message.to) };
      try {
        const receipt = await sender.send(message);
        const durationMs = Math.round(performance.now() - started);
        await record({ ...base, status: 'sent', httpStatus: receipt.status ?? null, providerMessageId: receipt.messageId ?? null, durationMs });
        log.info({ to: base.destination, purpose: message.purpose, status: receipt.status, messageId: receipt.messageId, durationMs }, 'sms sent');
        return receipt;
      } catch (err) {
        const durationMs = Math.round(performance.now() - started);
        const status = err instanceof SmsDeliveryError ? err.status : undefined;
        const reason = err instanceof Error ? err.message : String(err);
        await record({ ...base, status: 'failed', httpStatus: status ?? null, error: reason.slice(0, 500), durationMs });
        log.warn({ to: base.destination, purpose: message.purpose, status, durationMs, reason }, 'sms not sent');
        throw err instanceof SmsDeliveryError ? err : new SmsDeliveryError(reason, status, { cause: err });
      }
    },
  };
}
