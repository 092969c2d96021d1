import { textParts } from '../../src/app.ts';
import { messageCatalogue, shippedTexts } from '../../src/login/messages.ts';
import { factorModules } from '../../src/login/registry.ts';

/** Every shipped text of the chain, the factors and the pages, in every language. */
export const allTexts = messageCatalogue(textParts(factorModules));
const shipped = shippedTexts(textParts(factorModules));

/** What a reader sees of a page: its text without tags, entities decoded, spaces folded. */
export function visibleText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

// The literal stretches of a message long enough to be telling ("Sign in to continue to " of
// "Sign in to continue to {client}.").
const stretches = (message: string) => message.split(/[{}]/)
  .filter((s) => !/^\s*\w+\s*,\s*(select|plural)\s*,/.test(s))
  .map((s) => s.trim()).filter((s) => s.length >= 12 && !s.includes('#'));

/**
 * English left on a page meant to be in `language`: a telling stretch of an English text that the
 * language's own texts do not also contain, or a text key shown instead of its text.
 */
export function untranslated(html: string, language: string): string[] {
  const text = visibleText(html);
  const own = Object.values(shipped[language] ?? {}).join('\n');
  const english = Object.values(shipped.en!).flatMap(stretches).filter((s) => !own.includes(s));
  const keys = Object.keys(shipped.en!).filter((k) => k.includes('.') && new RegExp(`(^|\\s)${k.replace(/\./g, '\\.')}($|\\s)`).test(text));
  return [...new Set([...english.filter((s) => text.includes(s)), ...keys])];
}

/** The html's `<html lang>`. */
export const htmlLang = (html: string) => /<html lang="([^"]*)"/.exec(html)?.[1];
