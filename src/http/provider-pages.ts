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
