import { noMetrics, secondsSince, type Metrics } from '../shared/metrics.ts';
import { countryOf } from '../shared/phone.ts';
import { SmsDeliveryError, type SmsSender } from './port.ts';

/**
 * Counts every SMS the gateway was asked to send, by provider, purpose, status and the
 * destination's ISO country (`ZZ` for a number of no single country; never the number), and times
 * the gateway's answer. Sits right around the gateway, inside the send log and the destination
 * check: a number refused before the gateway is no send.
 */
export function withSendMetrics(sender: SmsSender, metrics: Metrics, provider: string): SmsSender {
  if (metrics === noMetrics) return sender;
  return {
    async send(message) {
      const start = performance.now();
      const record = (status: string) => {
        metrics.count('keystep_sms_sends_total', { provider, purpose: message.purpose, status, country: countryOf(message.to) });
        metrics.observe('keystep_sms_gateway_duration_seconds', { provider, status }, secondsSince(start));
      };
      try {
        const receipt = await sender.send(message);
        record('sent');
        return receipt;
      } catch (err) {
        record(err instanceof SmsDeliveryError ? err.sendStatus : 'unreached');
        throw err;
      }
    },
  };
}
