import got, { RequestError, TimeoutError } from 'got';
import type { Logger } from '../shared/log.ts';
import { maskPhone } from '../shared/phone.ts';
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

  /** Error bodies go to the log, so anything of the message or the configuration is cut out first. */
  function sanitize(body: string, message: SmsMessage, otp: string): string {
    const hidden = [...template.secrets, message.to, message.to.replace('+', ''), message.text, otp].filter((s) => s.length >= 4);
    return hidden.reduce((text, secret) => text.split(secret).join('[redacted]'), body.slice(0, 1024));
  }

  async function request(req: GatewayRequest) {
    return got(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      timeout: { connect: template.timeoutMs, request: template.timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
    });
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
        if (err instanceof TimeoutError) throw new SmsDeliveryError(`gateway timed out after ${template.timeoutMs} ms (${err.event})`, undefined, { cause: err });
        const code = err instanceof RequestError ? err.code : 'ERROR';
        throw new SmsDeliveryError(`gateway unreachable (${code})`, undefined, { cause: err });
      }
      const status = response.statusCode;
      if (!ok(status)) throw new SmsDeliveryError(`gateway answered ${status}: ${sanitize(response.body, message, otp)}`, status);
      if (!template.messageIdPath) return { status };
      const id = atPath(parseJson(response.body), template.messageIdPath);
      if (typeof id !== 'string' && typeof id !== 'number') {
        throw new SmsDeliveryError(`gateway answered ${status} without ${template.messageIdPath}: ${sanitize(response.body, message, otp)}`, status);
      }
      return { status, messageId: String(id) };
    },
  };
}
