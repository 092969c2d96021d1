import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import type { Form } from '../login/factor.ts';
import { AppError } from '../shared/errors.ts';

const parse = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });

/** Parses a urlencoded form body; anything else is a 4xx, never a 500. */
export function formBody(): Middleware {
  return async (ctx, next) => {
    if (!ctx.is('application/x-www-form-urlencoded')) throw new AppError(415, 'FORM_TYPE');
    // Our forms are never compressed; a compressed body is refused rather than inflated.
    const encoding = ctx.get('content-encoding').trim().toLowerCase();
    if (encoding && encoding !== 'identity') throw new AppError(415, 'FORM_TYPE');
    try {
      await parse(ctx, async () => {});
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) throw err;
      throw new AppError(400, 'FORM_INVALID');
    }
    const body: unknown = ctx.request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError(400, 'FORM_INVALID');
    const form: Form = {};
    for (const [key, value] of Object.entries(body)) {
      // Repeated or nested fields are never sent by our forms; NUL cannot be stored in Postgres text.
      if (typeof value !== 'string' || value.includes('\u0000') || key.includes('\u0000')) throw new AppError(400, 'FORM_INVALID');
      form[key] = value;
    }
    ctx.state.form = form;
    await next();
  };
}

export function formOf(ctx: Context): Form {
  return (ctx.state.form ?? {}) as Form;
}

/** An anti-forgery token derived from what it protects (a login's id, a sign-in session's uid), so none is stored. */
export function formToken(key: KeyObject, purpose: 'login' | 'account', id: string): string {
  return createHmac('sha256', key).update(`${purpose}:${id}`).digest('base64url');
}

/** The per-login anti-forgery token, compared in constant time. */
export function checkCsrf(form: Form, expected: string): void {
  const given = Buffer.from(form._csrf ?? '');
  const want = Buffer.from(expected);
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new AppError(403, 'CSRF_INVALID');
}
