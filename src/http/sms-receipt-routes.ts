import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from '../shared/log.ts';

/** The most of a receipt Keystep reads: a provider's callback is a few hundred bytes. */
export const MAX_RECEIPT_BYTES = 16 * 1024;

export interface ReceiptAnswer {
  status: number;
  message: string;
}

/** What takes a receipt (the SMS part's intake, wired in app.ts). */
export type ReceiptTaker = (gateway: string, request: {
  publicUrl: string; pathSecret?: string | undefined; headers: Record<string, string | undefined>; contentType: string; body: string;
}) => Promise<ReceiptAnswer>;

/** The answer to a receipt whose sender hung up before its end (no one reads it). */
const CUT_OFF: ReceiptAnswer = { status: 400, message: 'the receipt ended before its length' };

/** The body as text, or the answer that refuses it: too large, compressed, cut off, or not UTF-8. */
async function readBody(ctx: Context): Promise<string | ReceiptAnswer> {
  const encoding = ctx.get('content-encoding').trim().toLowerCase();
  if (encoding && encoding !== 'identity') return { status: 415, message: 'a receipt is not compressed' };
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > MAX_RECEIPT_BYTES) return { status: 413, message: 'the receipt is too large' };
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Stop reading at the limit; what is left unread goes with the connection.
      if (size > MAX_RECEIPT_BYTES) {
        ctx.set('Connection', 'close');
        return { status: 413, message: 'the receipt is too large' };
      }
      chunks.push(chunk);
    }
  } catch {
    // The connection ended mid-body: the provider's to send again, not a server error (whose log
    // line would name the path, and a secret in it).
    return CUT_OFF;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    return { status: 400, message: 'the body is not UTF-8' };
  }
}

function answer(ctx: Context, result: ReceiptAnswer): void {
  ctx.status = result.status;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = `${result.message}\n`;
}

/**
 * `POST /sms/receipts/<gateway>` (and `/<gateway>/<secret>` for providers that can only put a secret
 * in the URL): the providers' delivery receipts. The URL a signature covers is formed from the
 * issuer, never from the Host header, so a proxy in front changes nothing.
 */
export function smsReceiptRoutes(take: ReceiptTaker, issuer: string, log: Logger): Router {
  const router = new Router();
  const handle = async (ctx: Context, gateway: string, pathSecret?: string) => {
    const body = await readBody(ctx);
    if (body === CUT_OFF) log.info({ gateway }, 'sms receipt not read whole: its sender hung up');
    if (typeof body !== 'string') return answer(ctx, body);
    const publicUrl = `${issuer}${ctx.path}${ctx.querystring ? `?${ctx.querystring}` : ''}`;
    const headers = Object.fromEntries(Object.entries(ctx.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
    try {
      answer(ctx, await take(gateway, { publicUrl, pathSecret, headers, contentType: ctx.get('content-type'), body }));
    } catch (err) {
      // Answered here, not by the error pages, whose log line names the path (it may hold the secret).
      // Providers retry a 503 later.
      log.error({ err, gateway }, 'sms receipt could not be recorded');
      ctx.set('Retry-After', '60');
      answer(ctx, { status: 503, message: 'the receipt could not be recorded; send it again later' });
    }
  };
  router.post('/sms/receipts/:gateway', (ctx) => handle(ctx, ctx.params.gateway!));
  router.post('/sms/receipts/:gateway/:secret', (ctx) => handle(ctx, ctx.params.gateway!, ctx.params.secret!));
  return router;
}
