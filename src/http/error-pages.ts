import type { Context, Middleware } from 'koa';
import type { MessageCode } from '../login/messages.ts';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS, unavailableReason } from '../shared/unavailable.ts';
import { languageOf } from './language.ts';
import { sendPage, type Views } from './views.ts';

const codeForStatus: Record<number, MessageCode> = {
  400: 'FORM_INVALID',
  403: 'CSRF_INVALID',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'FORM_TOO_LARGE',
  415: 'FORM_TYPE',
};

// The page titles' text keys (page-texts.ts) by status.
const titled = new Set([400, 403, 404, 405, 413, 415, 429, 500, 503]);
const titleFor = (status: number) => `error.title.${titled.has(status) ? status : status >= 500 ? 500 : 400}`;

/** What a page may say for a status when the error itself must not be shown. */
const genericCode = (status: number): MessageCode => codeForStatus[status] ?? (status >= 500 ? 'SERVER_ERROR' : 'FORM_INVALID');

export interface ErrorPageOptions {
  /** The text key of the page's heading when the error is shown; otherwise the status's own. */
  title?: string;
  /** Values for the placeholders of the code's message. */
  params?: Record<string, string | number>;
}

/**
 * The one renderer of error pages, Keystep's and the provider's alike: the `error` page, or JSON for
 * a client that prefers it. An exposed error shows its code and its text; any other only the
 * generic page of its status.
 */
export function renderError(ctx: Context, views: Views, err: AppError, page: ErrorPageOptions = {}): void {
  const shown = err.expose && (err.description !== undefined || views.texts.has(err.code));
  const code = shown ? err.code : genericCode(err.status);
  const language = languageOf(ctx, views.texts.defaultLanguage);
  const message = shown && err.description !== undefined ? err.description : views.texts.text(code, page.params, language);
  if (ctx.accepts('html', 'json') === 'json') {
    ctx.status = err.status;
    ctx.body = { error: code.toLowerCase(), error_description: message };
    return;
  }
  const title = code === 'LOGIN_EXPIRED' ? 'error.title.login-ended' : (shown ? page.title : undefined) ?? titleFor(err.status);
  sendPage(ctx, views, 'error', { title, message, code }, err.status);
}

/** An error for whoever made the request; one that must not be shown is logged for the operator. */
export function reportError(ctx: Context, views: Views, log: Logger, err: AppError, page: ErrorPageOptions = {}): void {
  if (!err.expose) log.error({ err: err.cause ?? err, status: err.status, path: ctx.path, method: ctx.method }, 'request failed');
  renderError(ctx, views, err, page);
}

/** A page for a message code of Keystep's own (the address limit's 429, the catch-all 404). */
export function renderErrorPage(ctx: Context, views: Views, status: number, code: MessageCode, params: Record<string, string | number> = {}): void {
  renderError(ctx, views, new AppError(status, code, { expose: true }), { params });
}

/**
 * A database that is down or does not answer: "try again shortly" (503, Retry-After), and one log
 * line with the driver's reason, not a 500 with a stack for every request while it lasts.
 */
export function renderUnavailable(ctx: Context, views: Views, log: Logger, err: unknown): void {
  log.warn({ reason: unavailableReason(err), path: ctx.path, method: ctx.method }, 'database unavailable');
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  renderErrorPage(ctx, views, 503, 'TEMPORARILY_UNAVAILABLE');
}

/** Anything thrown by a route, as an AppError: client errors (4xx from the body parser) keep their status. */
function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) return new AppError(status, codeForStatus[status] ?? 'FORM_INVALID', { cause: err });
  return new AppError(500, 'SERVER_ERROR', { cause: err });
}

/**
 * Our routes' errors get their page through `reportError`; a 500's details go to the log only.
 * Also the catch-all 404 and the 405's page.
 */
export function errorPages(views: Views, log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if ((ctx.status === 404 || ctx.status === 405) && ctx.body == null) renderErrorPage(ctx, views, ctx.status, codeForStatus[ctx.status]!);
    } catch (err) {
      // An AppError's code is a message code, never a driver's.
      if (!(err instanceof AppError) && isDatabaseUnavailable(err)) return renderUnavailable(ctx, views, log, err);
      reportError(ctx, views, log, asAppError(err));
    }
  };
}
