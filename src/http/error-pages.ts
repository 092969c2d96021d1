import type { Middleware } from 'koa';
import { messageText, type MessageCode } from '../login/messages.ts';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS, unavailableReason } from '../shared/unavailable.ts';
import { sendPage, type Views } from './views.ts';

const codeForStatus: Record<number, MessageCode> = {
  400: 'FORM_INVALID',
  403: 'CSRF_INVALID',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'FORM_TOO_LARGE',
  415: 'FORM_TYPE',
};

const titles: Record<number, string> = { 400: 'Something is wrong with that request', 403: 'Not allowed', 404: 'Page not found', 405: 'Not allowed here', 413: 'Too large', 415: 'Not accepted', 429: 'Too many requests', 500: 'Something went wrong', 503: 'Try again shortly' };

export function renderErrorPage(ctx: Parameters<Middleware>[0], views: Views, status: number, code: MessageCode, params: Record<string, string | number> = {}): void {
  if (ctx.accepts('html', 'json') === 'json') {
    ctx.status = status;
    ctx.body = { error: code.toLowerCase(), error_description: messageText(code, params) };
    return;
  }
  const title = code === 'LOGIN_EXPIRED' ? 'This sign-in has ended' : titles[status] ?? titles[400];
  sendPage(ctx, views, 'error', { title, message: messageText(code, params), code }, status);
}

/**
 * A database that is down or does not answer: "try again shortly" (503, Retry-After), and one log
 * line with the driver's reason, not a 500 with a stack for every request while it lasts.
 */
export function renderUnavailable(ctx: Parameters<Middleware>[0], views: Views, log: Logger, err: unknown): void {
  log.warn({ reason: unavailableReason(err), path: ctx.path, method: ctx.method }, 'database unavailable');
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  renderErrorPage(ctx, views, 503, 'TEMPORARILY_UNAVAILABLE');
}

/**
 * Our routes' errors: AppErrors and client errors (4xx from the body parser) get their page;
 * anything else is a 500 whose details go to the log only. Also the catch-all 404 and the 405's page.
 */
export function errorPages(views: Views, log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if ((ctx.status === 404 || ctx.status === 405) && ctx.body == null) renderErrorPage(ctx, views, ctx.status, codeForStatus[ctx.status]!);
    } catch (err) {
      if (err instanceof AppError) {
        renderErrorPage(ctx, views, err.status, err.code as MessageCode);
        return;
      }
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        renderErrorPage(ctx, views, status, codeForStatus[status] ?? 'FORM_INVALID');
        return;
      }
      if (isDatabaseUnavailable(err)) {
        renderUnavailable(ctx, views, log, err);
        return;
      }
      log.error({ err, path: ctx.path, method: ctx.method }, 'request failed');
      renderErrorPage(ctx, views, 500, 'SERVER_ERROR');
    }
  };
}
