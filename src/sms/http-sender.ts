import got, { RequestError, TimeoutError } from 'got';
import type { Logger } from '../shared/log.ts';
import { maskPhone, phoneFacts } from '../shared/phone.ts';
import { SmsDeliveryError, type SmsMessage, type SmsReceipt, type SmsSender } from './port.ts';
import type { CompiledGateway, GatewayRequest } from './request-template.ts';

function atPath(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends one SMS as the configured HTTP request, with got. */
export function createHttpSender(gateway: CompiledGateway, log: Logger): SmsSender {
  const { template } = gateway;
  const ok = (status: number) => (template.successStatus ? template.successStatus.includes(status) : status >= 200 && status < 300);

  /**
   * Error bodies go to the log, so anything of the message, the number (in any form) or the
   * configuration is cut out first, and only then is the body shortened to 1 KB.
   */
  function sanitize(body: string, message: SmsMessage, otp: string): string {
    const national = phoneFacts(message.to)?.nationalNumber ?? '';
    const hidden = [...template.secrets, message.to, message.to.replace('+', ''), national, message.text, JSON.stringify(message.text).slice(1, -1), otp]
      .filter((s) => s.length >= 4)
      .sort((a, b) => b.length - a.length);
    return hidden.reduce((text, secret) => text.split(secret).join('[redacted]'), body).slice(0, 1024);
  }

  // The fixed options are merged once here, not on every SMS (got's option handling is most of its cost).
  const client = got.extend({
    timeout: { connect: template.timeoutMs, request: template.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
  });

  async function request(req: GatewayRequest) {
    return client(req.url, { method: req.method, headers: req.headers, body: req.body });
  }

  return {
    async send(message: SmsMessage): Promise<SmsReceipt> {
      const otp = message.code ?? '';
      const req = gateway.build({ num: message.to, msg: message.text, otp });
      let response;
      try {
        try {
          response = await request(req);
        } catch (err) {
          // Refused before anything was sent: no SMS can have gone out, so one retry is safe.
          // Any other failure may have reached the gateway, and a retry could send a second SMS.
          if (!(err instanceof RequestError && err.code === 'ECONNREFUSED')) throw err;
          log.warn({ to: maskPhone(message.to) }, 'sms gateway refused the connection; retrying once');
          response = await request(req);
        }
      } catch (err) {
        // A timeout after connecting may still have sent the SMS; a refused or unresolved connection did not.
        if (err instanceof TimeoutError) throw new SmsDeliveryError(`gateway timed out after ${template.timeoutMs} ms (${err.event})`, undefined, { cause: err, mayHaveSent: err.event !== 'connect' });
        const code = err instanceof RequestError ? err.code : 'ERROR';
        throw new SmsDeliveryError(`gateway unreachable (${code})`, undefined, { cause: err, mayHaveSent: !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) });
      }
      const status = response.statusCode;
      if (!ok(status)) throw new SmsDeliveryError(`gateway answered ${status}: ${sanitize(response.body, message, otp)}`, status);
      if (!template.messageIdPath) return { status };
      const id = atPath(parseJson(response.body), template.messageIdPath);
      if (typeof id !== 'string' && typeof id !== 'number') {
        throw new SmsDeliveryError(`gateway answered ${status} without ${template.messageIdPath}: ${sanitize(response.body, message, otp)}`, status, { mayHaveSent: status >= 200 && status < 300 });
      }
      return { status, messageId: String(id) };
    },
  };
}
