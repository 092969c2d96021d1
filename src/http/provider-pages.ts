import type { Middleware } from 'koa';
import type { ProviderPages } from '../oidc/provider.ts';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { isDatabaseUnavailable } from '../shared/unavailable.ts';
import { renderUnavailable, reportError } from './error-pages.ts';
import { languageOf } from './language.ts';
import { pageTexts } from './page-texts.ts';
import { sendPage, viewTexts, type Views } from './views.ts';

/**
 * The action and anti-forgery value of the provider's logout form, so that the page writes them
 * escaped like everything else instead of inserting the provider's HTML as it is.
 */
function logoutForm(html: string): { action: string; xsrf: string } {
  const action = /\baction="([^"]+)"/.exec(html)?.[1];
  const xsrf = /\bname="xsrf" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !xsrf) throw new Error('the provider\'s logout form has changed shape');
  return { action, xsrf };
}

/** The pages the provider renders itself (its errors, logout), in Keystep's layout. */
export function providerPages(views: Views, log: Logger): ProviderPages {
  return {
    async error(ctx, out, error) {
      if (isDatabaseUnavailable(error)) return renderUnavailable(ctx, views, log, error);
      // The provider's error in Keystep's shape: its status, its OAuth code, exposed as the provider
      // exposes it (4xx); a server error shows only the generic page.
      const status = ctx.status >= 400 ? ctx.status : 400;
      // The provider's own description is English: it names what the app got wrong, for its developer.
      const t = viewTexts(views.texts, languageOf(ctx, views.texts.defaultLanguage));
      const code = out.error ?? 'server_error';
      const leadKey = `error.provider.${code}`;
      const lead = t(/^[a-z_]{1,64}$/.test(code) && leadKey in pageTexts ? leadKey : 'error.provider-generic');
      const description = out.error_description
        ? t('error.provider.detail', { lead, description: out.error_description })
        : t('error.provider', { lead });
      const err = new AppError(status, code, { description, cause: error });
      reportError(ctx, views, log, err, { title: 'error.title.provider' });
    },
    async logout(ctx, form) {
      sendPage(ctx, views, 'logout', { title: 'title.sign-out', ...logoutForm(form) });
    },
    async logoutSuccess(ctx) {
      sendPage(ctx, views, 'logout-success', { title: 'title.signed-out' });
    },
  };
}

const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescape = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (e) => entities[e]!);

/**
 * The provider's own auto-submitting page (an authorization answer by `form_post`, and its sign-out
 * before signing in as someone else), which it writes with no language, in English, outside
 * Keystep's layout and has no setting for: the same form, as Keystep's page in the request's
 * language, submitted by Keystep's script. A page of another shape is left as it is.
 */
export function providerFormPostPages(views: Views): Middleware {
  return async (ctx, next) => {
    await next();
    const html = ctx.body;
    if (typeof html !== 'string' || !ctx.response.is('html') || !html.includes('<title>Submitting Callback</title>')) return;
    const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1];
    if (action === undefined) return;
    const fields = [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g)].map((m) => ({ name: m[1]!, value: unescape(m[2]!) }));
    try {
      sendPage(ctx, views, 'form-post', { title: 'title.continuing', action: unescape(action), fields }, ctx.status);
    } catch {
      // An operator's copy of views/ from before this page: the provider's own page stays.
      return;
    }
    // The provider's hash of its inline script goes with it; Keystep's script is allowed by its own.
    ctx.set('Content-Security-Policy', String(ctx.response.get('Content-Security-Policy')).replace(/script-src[^;]*/, "script-src 'none'"));
  };
}
