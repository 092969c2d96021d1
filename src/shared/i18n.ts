import { match } from '@formatjs/intl-localematcher';
import { IntlMessageFormat } from 'intl-messageformat';

/** Texts of one language: a key and its ICU MessageFormat message. */
export type Texts = Readonly<Record<string, string>>;
export type TextParams = Readonly<Record<string, string | number>>;

// The element kinds of the parser's syntax tree (@formatjs/icu-messageformat-parser's TYPE).
const ARGUMENT_KINDS = new Set([1, 2, 3, 4, 5, 6]);
const SELECT = 5;
const PLURAL = 6;
const TAG = 8;

interface Element { type: number; value?: string; options?: Record<string, { value: Element[] }>; children?: Element[] }

function collect(elements: readonly Element[], into: Set<string>): Set<string> {
  for (const el of elements) {
    if (ARGUMENT_KINDS.has(el.type) && el.value !== undefined) into.add(el.value);
    if ((el.type === SELECT || el.type === PLURAL) && el.options) for (const option of Object.values(el.options)) collect(option.value, into);
    if (el.type === TAG && el.children) collect(el.children, into);
  }
  return into;
}

function compile(message: string, language: string): IntlMessageFormat {
  // Tags are off: a `<` in a text is a character, not markup (pages escape every text anyway).
  return new IntlMessageFormat(message, language, undefined, { ignoreTag: true });
}

const NUMBER = 2;

/** The arguments a message counts with or writes as a number (plural, selectordinal, number). */
function numeric(elements: readonly Element[], into: Set<string>): Set<string> {
  for (const el of elements) {
    if ((el.type === NUMBER || el.type === PLURAL) && el.value !== undefined) into.add(el.value);
    if ((el.type === SELECT || el.type === PLURAL) && el.options) for (const option of Object.values(el.options)) numeric(option.value, into);
    if (el.type === TAG && el.children) numeric(el.children, into);
  }
  return into;
}

/** The names of the arguments a message takes; throws with the parser's reason when it does not parse. */
export function messageArguments(message: string, language = 'en'): string[] {
  return [...collect(compile(message, language).getAst() as Element[], new Set())].sort();
}

/**
 * What is wrong with `texts` of `language` next to the reference (English) texts: keys the reference
 * does not have, messages that do not parse, arguments that differ. `complete` also asks for every
 * key of the reference (the shipped languages; an operator's file may leave keys to English).
 */
export function translationProblems(reference: Texts, texts: Texts, language: string, complete: boolean): string[] {
  const problems: string[] = [];
  if (complete) for (const key of Object.keys(reference)) if (!Object.hasOwn(texts, key)) problems.push(`${language}: ${key} is missing`);
  for (const [key, message] of Object.entries(texts)) {
    if (!Object.hasOwn(reference, key)) {
      problems.push(`${language}: ${key} is not a text Keystep has`);
      continue;
    }
    if (typeof message !== 'string') {
      problems.push(`${language}: ${key} must be a string`);
      continue;
    }
    let args: string[];
    try {
      args = messageArguments(message, language);
    } catch (err) {
      problems.push(`${language}: ${key} does not parse as ICU MessageFormat (${(err as Error).message})`);
      continue;
    }
    const wanted = messageArguments(reference[key]!, 'en');
    if (args.join(',') !== wanted.join(',')) {
      problems.push(`${language}: ${key} takes {${args.join('}, {')}} but the English text takes {${wanted.join('}, {')}}`);
      continue;
    }
    // Written out once with values of the kinds Keystep gives (a number where English counts, else
    // text): a message that parses may still fail then (a date of a name, a unit no one has).
    const counted = numeric(compile(reference[key]!, 'en').getAst() as Element[], new Set());
    try {
      compile(message, language).format(Object.fromEntries(args.map((a) => [a, counted.has(a) ? 2 : 'x'])));
    } catch (err) {
      problems.push(`${language}: ${key} cannot be written out (${(err as Error).message})`);
    }
  }
  return problems;
}

/** A well-formed BCP 47 tag in its canonical form, or undefined. */
export function languageTag(tag: string): string | undefined {
  if (tag.length > 35 || tag === '*') return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

// No linguistic content: a well-formed tag that names no language Keystep could have.
const NONE = 'zxx';

/**
 * The first of the lists (OIDC `ui_locales`, then `Accept-Language`, each in order of preference)
 * that names a language Keystep has, else `fallback`. `de-CH` finds `de`. Only the first ten tags of
 * a list count, and malformed ones are skipped, so no header makes the choice expensive or throw.
 */
export function chooseLanguage(wanted: readonly (readonly string[])[], supported: readonly string[], fallback: string): string {
  for (const list of wanted) {
    const tags = list.slice(0, 10).flatMap((t) => languageTag(t.trim()) ?? []);
    if (!tags.length) continue;
    const found = match(tags, supported, NONE);
    if (found !== NONE) return found;
  }
  return fallback;
}

/**
 * Every language's texts, formatted with ICU MessageFormat. A key a language lacks (an operator's
 * added language, an older file) falls back to the language it narrows (de-AT's to de's), then to
 * the fallback language's text; a key none has is returned as it is. A message is compiled once per
 * language.
 */
export function textFormatter(catalogues: Readonly<Record<string, Texts>>, fallback: string) {
  const compiled = new Map<string, { format: IntlMessageFormat; args: string[] }>();
  // A language, then the languages it narrows (de-AT, then de), then the fallback.
  const chains = new Map<string, string[]>();
  const chainOf = (language: string): string[] => {
    let chain = chains.get(language);
    if (!chain) {
      const parts = language.split('-');
      chain = [...new Set([...parts.map((_, i) => parts.slice(0, parts.length - i).join('-')), fallback])].filter((l) => Object.hasOwn(catalogues, l));
      if (Object.hasOwn(catalogues, language)) chains.set(language, chain);
    }
    return chain;
  };
  const source = (language: string, key: string): [string, string] | undefined => {
    for (const from of chainOf(language)) if (Object.hasOwn(catalogues[from]!, key)) return [from, catalogues[from]![key]!];
    return undefined;
  };
  function format(language: string, key: string, params: TextParams = {}): string {
    const found = source(language, key);
    if (!found) return key;
    const id = `${found[0]}\u0000${key}`;
    try {
      let entry = compiled.get(id);
      if (!entry) {
        const compiledMessage = compile(found[1], found[0]);
        entry = { format: compiledMessage, args: [...collect(compiledMessage.getAst() as Element[], new Set())] };
        compiled.set(id, entry);
      }
      // An argument the caller did not give reads as empty rather than failing the page.
      const values: Record<string, string | number> = {};
      for (const arg of entry.args) values[arg] = params[arg] ?? '';
      return String(entry.format.format(values));
    } catch {
      // A text that cannot be written out with these values (start-up writes each out once with
      // values of the right kinds): the fallback language's, else the key; never a failed page.
      return found[0] !== fallback ? format(fallback, key, params) : key;
    }
  }
  return {
    languages: Object.keys(catalogues),
    has: (key: string) => source(fallback, key) !== undefined,
    format,
  };
}

export type TextFormatter = ReturnType<typeof textFormatter>;
