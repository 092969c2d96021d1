import type { Logger } from '../shared/log.ts';
import { maskPhone } from '../shared/phone.ts';
import type { SmsMessage, SmsSender } from './port.ts';

export interface InboxMessage {
  at: Date;
  to: string;
  text: string;
}

/**
 * Development only (production refuses it): "sends" by writing to the log and to an in-memory
 * inbox that `/dev/sms` shows, so a login can be tried without an SMS provider.
 */
export function createConsoleSender(log: Logger, capacity = 50): SmsSender & { inbox(): readonly InboxMessage[] } {
  const messages: InboxMessage[] = [];
  let sequence = 0;
  return {
    async send(message: SmsMessage) {
      messages.unshift({ at: new Date(), to: message.to, text: message.text });
      messages.length = Math.min(messages.length, capacity);
      log.info({ to: maskPhone(message.to), purpose: message.purpose, devText: message.text }, 'development SMS (not sent; see /dev/sms)');
      return { messageId: `dev-${++sequence}` };
    },
    inbox: () => messages,
  };
}
