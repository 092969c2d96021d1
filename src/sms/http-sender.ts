import got, { RequestError, TimeoutError } from 'got';
import type { Logger } from '../shared/log.ts';
import { maskPhone, phoneFacts } from '../shared/phone.ts';
import { storableText, withoutNul } from '../shared/text.ts';
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

/**
 * The most of a response body Keystep reads: a message id or an error fits in far less, and a
 * gateway (or whatever the URL points at) sending more is not believed.
 */
const MAX_GATEWAY_BODY_BYTES = 64 * 1024;

// got's timeout events that fire before a request could have left.
const BEFORE_CONNECTED = new Set(['lookup', 'connect', 'secureConnect']);

/**
 * Whether the request can have reached the gateway: its connection (and TLS handshake) was made.
 * The event alone does not say: with the same limit for connecting and for the whole request, a
 * connection that never completes (a host that drops packets) times out as `request`.
 */
function connected(err: RequestError, url: string): boolean {
  if (err instanceof TimeoutError && BEFORE_CONNECTED.has(err.event)) return false;
  const timings = err.timings;
  // A kept-alive connection was made for an earlier request: this one may have been written to it.
  if (!timings || err.request?.reusedSocket === true) return true;
  return (new URL(url).protocol === 'https:' ? timings.secureConnect : timings.connect) !== undefined;
}

interface GatewayResponse {
  statusCode: number;
  body: string;
  /** The body went on past MAX_GATEWAY_BODY_BYTES; reading stopped there. */
  oversized: boolean;
}

/** Sends one SMS as the configured HTTP request, with got. */
export function createHttpSender(gateway: CompiledGateway, log: Logger): SmsSender {
  const { template } = gateway;
  const ok = (status: number) => (template.successStatus ? template.successStatus.includes(status) : status >= 200 && status < 300);

  /**
   * Error bodies go to the log, so anything of the message, the number (in any form) or the
   * configuration is cut out first, and only then is the body shortened to 1 KB. NUL goes before
   * that: one inside a secret would hide it from the search.
   */
  function sanitize(body: string, message: SmsMessage, otp: string): string {
    const national = phoneFacts(message.to)?.nationalNumber ?? '';
    const hidden = [...template.secrets, message.to, message.to.replace('+', ''), national, message.text, JSON.stringify(message.text).slice(1, -1), otp]
      .filter((s) => s.length >= 4)
      .sort((a, b) => b.length - a.length);
    return storableText(hidden.reduce((text, secret) => text.split(secret).join('[redacted]'), withoutNul(body)), 1024);
  }

  // The fixed options are merged once here, not on every SMS (got's option handling is most of its cost).
  const client = got.extend({
    timeout: { connect: template.timeoutMs, request: template.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
  });

  /** The request as a stream, so that reading can stop at MAX_GATEWAY_BODY_BYTES (got's promise reads it whole). */
  function request(req: GatewayRequest): Promise<GatewayResponse> {
    return new Promise((resolve, reject) => {
      const stream = client.stream(req.url, { method: req.method, headers: req.headers, body: req.body });
      // A stream without a body waits for one to be written.
      if (req.body === undefined && req.method !== 'GET') stream.end();
      let statusCode = 0;
      let size = 0;
      const chunks: Buffer[] = [];
      const body = () => Buffer.concat(chunks).toString('utf8');
      stream.on('response', (response: { statusCode: number }) => { statusCode = response.statusCode; });
      stream.on('data', (chunk: Buffer) => {
        const room = MAX_GATEWAY_BODY_BYTES - size;
        size += chunk.length;
        if (chunk.length <= room) {
          chunks.push(chunk);
          return;
        }
        chunks.push(chunk.subarray(0, room));
        stream.destroy();
        resolve({ statusCode, body: body(), oversized: true });
      });
      stream.on('end', () => resolve({ statusCode, body: body(), oversized: false }));
      stream.on('error', reject);
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
        // A timeout after connecting may still have sent the SMS; one before, or a refused or
        // unresolved connection, did not.
        if (err instanceof TimeoutError) throw new SmsDeliveryError(`gateway timed out after ${template.timeoutMs} ms (${err.event})`, undefined, { cause: err, mayHaveSent: connected(err, req.url) });
        // Nor can any failure before the connection and its TLS handshake were made (a certificate
        // not trusted, an unreachable host) have sent it.
        const code = err instanceof RequestError ? err.code : 'ERROR';
        const mayHaveSent = !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) && (!(err instanceof RequestError) || connected(err, req.url));
        throw new SmsDeliveryError(`gateway unreachable (${code})`, undefined, { cause: err, mayHaveSent });
      }
      const status = response.statusCode;
      if (response.oversized) {
        // The status came before the body: a success status may have meant the SMS went out.
        throw new SmsDeliveryError(`gateway answered ${status} with a body over ${MAX_GATEWAY_BODY_BYTES / 1024} KiB: ${sanitize(response.body, message, otp)}`, status, { mayHaveSent: ok(status) });
      }
      if (!ok(status)) throw new SmsDeliveryError(`gateway answered ${status}: ${sanitize(response.body, message, otp)}`, status);
      if (!template.messageIdPath) return { status };
      const id = atPath(parseJson(response.body), template.messageIdPath);
      if (typeof id !== 'string' && typeof id !== 'number') {
        throw new SmsDeliveryError(`gateway answered ${status} without ${template.messageIdPath}: ${sanitize(response.body, message, otp)}`, status, { mayHaveSent: status >= 200 && status < 300 });
      }
      return { status, messageId: storableText(String(id), 200) };
    },
  };
}
