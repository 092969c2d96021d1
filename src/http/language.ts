import type { Context, Middleware } from 'koa';
import { chooseLanguage } from '../shared/i18n.ts';

/** The languages a request may be answered in, and the one for a request that asks for none of them. */
export interface LanguageChoice {
  languages: readonly string[];
  defaultLanguage: string;
}

const KEY = 'keystepLanguage';

/** Every page's language, from `Accept-Language`; a login's pages put `ui_locales` before it (`chooseFor`). */
export function languageFromHeaders(choice: LanguageChoice): Middleware {
  return async (ctx, next) => {
    ctx.state[KEY] = chooseFor(ctx, choice);
    await next();
  };
}

/** `ui_locales` (space-separated, as OpenID Connect sends it) first, then the browser's languages. */
export function chooseFor(ctx: Context, choice: LanguageChoice, uiLocales?: string): string {
  const wanted = [uiLocales ? uiLocales.split(' ').filter(Boolean) : [], ctx.acceptsLanguages()];
  return chooseLanguage(wanted, choice.languages, choice.defaultLanguage);
}

export function setLanguage(ctx: Context, language: string): void {
  ctx.state[KEY] = language;
}

export function languageOf(ctx: Context, fallback: string): string {
  const chosen: unknown = ctx.state[KEY];
  return typeof chosen === 'string' ? chosen : fallback;
}
