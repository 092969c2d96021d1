import type { Middleware } from 'koa';
import { messageText, type MessageCode } from '../login/messages.ts';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { sendPage, type Views } from './views.ts';

const codeForStatus: Record<number, MessageCode> = {
  400: 'FORM_INVALID',
  403: 'CSRF_INVALID',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'FORM_TOO_LARGE',
  415: 'FORM_TYPE',
};

const titles: Record<number, string> = { 400: 'Something is wrong with that request', 403: 'Not allowed', 404: 'Page not found', 405: 'Not allowed here', 413: 'Too large', 415: 'Not accepted', 500: 'Something went wrong' };

export function renderErrorPage(ctx: Parameters<Middleware>[0], views: Views, status: number, code: MessageCode): void {
  if (ctx.accepts('html', 'json') === 'json') {
    ctx.status = status;
    ctx.body = { error: code.toLowerCase(), error_description: messageText(code) };
    return;
  }
  const title = code === 'LOGIN_EXPIRED' ? 'This sign-in has ended' : titles[status] ?? titles[400];
  sendPage(ctx, views, 'error', { title, message: messageText(code), code }, status);
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
      log.error({ err, path: ctx.path, method: ctx.method }, 'request failed');
      renderErrorPage(ctx, views, 500, 'SERVER_ERROR');
    }
  };
}
