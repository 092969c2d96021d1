import { fileURLToPath } from 'node:url';
import path from 'node:path';
import pug from 'pug';
import type { Context } from 'koa';
import type { MessageCatalogue } from '../login/messages.ts';
import type { TextParams } from '../shared/i18n.ts';
import { languageOf } from './language.ts';

export const viewsDir = fileURLToPath(new URL('../../views', import.meta.url));

export interface Views {
  /** `language` picks the texts `t` gives the view and the page's `<html lang>`. */
  render(name: string, model: Record<string, unknown>, language?: string): string;
  readonly texts: MessageCatalogue;
}

// Each plural form of a language with the smallest count that takes it (2 for `other` in English):
// made once per language, as building the rules costs more than the rest of a page's texts.
const pluralSampleCache = new Map<string, [Intl.LDMLPluralRule, number][]>();
function pluralSamples(language: string): [Intl.LDMLPluralRule, number][] {
  let samples = pluralSampleCache.get(language);
  if (!samples) {
    const rules = new Intl.PluralRules(language);
    samples = rules.resolvedOptions().pluralCategories.flatMap((form): [Intl.LDMLPluralRule, number][] => {
      let n = 0;
      while (n < 1000 && rules.select(n) !== form) n++;
      return n < 1000 ? [[form, n]] : [];
    });
    if (pluralSampleCache.size < 100) pluralSampleCache.set(language, samples);
  }
  return samples;
}

// Stands in for an argument while its message is cut around it (no text holds this character).
const MARK = '\u0000';

/**
 * What a view gets to write its texts: `t(key, params)`; `t.around(key, name, params)`, the text
 * before and after one argument, so that the view can set that argument in its own element (a
 * number in bold) wherever the language puts it; `t.plurals(key, name)`, the text for each plural
 * form of the language with `#` for the number (for a script that counts); `t.has(key)`;
 * `t.region('GB')`, a country's name.
 */
export function viewTexts(texts: MessageCatalogue, language: string) {
  const t = (key: string, params: TextParams = {}) => texts.page(key, params, language);
  let regions: Intl.DisplayNames | undefined;
  return Object.assign(t, {
    around(key: string, name: string, params: TextParams = {}): [string, string] {
      const [before = '', ...after] = t(key, { ...params, [name]: MARK }).split(MARK);
      return [before, after.join('')];
    },
    has: (key: string) => texts.page(key, {}, language) !== key,
    plurals(key: string, name: string): Record<string, string> {
      const forms: Record<string, string> = {};
      for (const [form, n] of pluralSamples(language)) forms[form] = t(key, { [name]: n }).replace(String(n), '#');
      return forms;
    },
    region(code: string): string {
      regions ??= new Intl.DisplayNames([language], { type: 'region', fallback: 'code' });
      try {
        return regions.of(code) ?? code;
      } catch {
        return code;
      }
    },
  });
}

export function createViews(serviceName: string, dir = viewsDir, texts: MessageCatalogue): Views {
  const compiled = new Map<string, pug.compileTemplate>();
  return {
    texts,
    render(name, model, language = texts.defaultLanguage) {
      let template = compiled.get(name);
      if (!template) {
        template = pug.compileFile(path.join(dir, `${name}.pug`));
        compiled.set(name, template);
      }
      const t = viewTexts(texts, language);
      // The title arrives as a text key; written out here, a page copied from an older Keystep shows it too.
      return template({ serviceName, lang: language, t, ...model, title: typeof model.title === 'string' ? t(model.title) : model.title });
    },
  };
}

export function sendPage(ctx: Context, views: Views, name: string, model: Record<string, unknown>, status = 200): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Language', languageOf(ctx, views.texts.defaultLanguage));
  ctx.body = views.render(name, model, languageOf(ctx, views.texts.defaultLanguage));
}

export function redirect303(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}
