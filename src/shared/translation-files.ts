import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { languageTag, type Texts } from './i18n.ts';

/**
 * An operator's translation files: one `<language>.json` per language in `dir` (`de.json`,
 * `pt-BR.json`), each a flat JSON object of text keys and ICU messages. A file of a language Keystep
 * ships overrides those texts; a file of another language adds it. Every problem is listed, none
 * thrown, so that start-up reports them with the other settings' problems.
 */
export function readTranslationFiles(dir: string): { files: Record<string, Texts>; problems: string[] } {
  const problems: string[] = [];
  const files: Record<string, Texts> = {};
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    return { files, problems: [`cannot read the directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  for (const name of names) {
    const tag = name.slice(0, -'.json'.length);
    const language = languageTag(tag);
    if (!language || language !== tag) {
      problems.push(`${name}: the file name must be a language tag such as de.json or pt-BR.json${language ? ` (${language}.json)` : ''}`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
    } catch (err) {
      problems.push(`${name}: not valid JSON (${(err as Error).message})`);
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push(`${name}: must hold one JSON object of text keys and messages`);
      continue;
    }
    const texts: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string') texts[key] = value;
      else problems.push(`${name}: ${key} must be a string`);
    }
    files[language] = texts;
  }
  return { files, problems };
}
