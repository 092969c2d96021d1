import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTranslations, textParts } from '../../src/app.ts';
import { chainPart, englishTexts, messageCatalogue, SHIPPED_LANGUAGES } from '../../src/login/messages.ts';
import { factorModules } from '../../src/login/registry.ts';
import { chooseLanguage, messageArguments, textFormatter, translationProblems } from '../../src/shared/i18n.ts';
import { readTranslationFiles } from '../../src/shared/translation-files.ts';

const parts = [chainPart, ...textParts(factorModules)];
const english = englishTexts(textParts(factorModules));

describe('the shipped translations', () => {
  it('have, in every language, exactly the keys of each part\'s English texts, each parsing with the same arguments', () => {
    const problems: string[] = [];
    for (const part of new Set(parts)) {
      const own = { ...part.messages, ...part.texts };
      for (const language of SHIPPED_LANGUAGES.slice(1)) problems.push(...translationProblems(own, part.translations?.[language] ?? {}, language, true));
    }
    expect(problems).toEqual([]);
  });

  it('parse in English too, and no two parts claim the same key', () => {
    const seen = new Map<string, unknown>();
    const clashes: string[] = [];
    // Two factors may share one set of texts (the SMS code and the phone capture do).
    for (const texts of new Set(parts.flatMap((p) => [p.messages, p.texts ?? {}]))) {
      for (const key of Object.keys(texts)) {
        if (seen.has(key) && seen.get(key) !== texts) clashes.push(key);
        seen.set(key, texts);
      }
    }
    expect(clashes).toEqual([]);
    for (const [key, message] of Object.entries(english)) expect(() => messageArguments(message), key).not.toThrow();
  });

  it('count in each language: 1 try left, 4 tries left', () => {
    const texts = messageCatalogue(textParts(factorModules));
    const tries = (language: string, attempts: number) => texts.text('CODE_INCORRECT', { attempts }, language);
    expect(tries('en', 1)).toBe('That code is not right. 1 try left for this code.');
    expect(tries('en', 4)).toBe('That code is not right. 4 tries left for this code.');
    expect(tries('de', 1)).toBe('Dieser Code ist nicht richtig. Für diesen Code bleibt noch 1 Versuch.');
    expect(tries('de', 4)).toBe('Dieser Code ist nicht richtig. Für diesen Code bleiben noch 4 Versuche.');
    expect(tries('fr', 1)).toBe('Ce code n’est pas correct. Il reste 1 essai pour ce code.');
    expect(tries('fr', 4)).toBe('Ce code n’est pas correct. Il reste 4 essais pour ce code.');
    expect(texts.page('account.backup.left', { count: 1 }, 'de')).toBe('Sie haben 1 unbenutzten Backup-Code.');
    // A language without the text, or an unknown language, reads the default's.
    expect(texts.text('CODE_INCORRECT', { attempts: 4 }, 'xx')).toBe(tries('en', 4));
  });

  it('are told apart from a translation that lacks a key, has one too many, does not parse or takes other arguments', () => {
    const reference = { A: 'Wait {seconds, plural, one {# second} other {# seconds}}.', B: 'Hello {name}.', C: 'Plain.' };
    expect(translationProblems(reference, { A: 'Warten Sie {seconds} Sekunden.', B: 'Hallo {nom}.', D: 'Extra.', C: 'Offen {' }, 'de', true)).toEqual([
      'de: B takes {nom} but the English text takes {name}',
      'de: D is not a text Keystep has',
      expect.stringMatching(/^de: C does not parse as ICU MessageFormat/),
    ]);
    expect(translationProblems(reference, { A: 'Attendez {seconds} s.' }, 'fr', true)).toEqual(['fr: B is missing', 'fr: C is missing']);
    expect(translationProblems(reference, { A: 'Attendez {seconds} s.' }, 'fr', false)).toEqual([]);
  });
});

describe('the choice of language', () => {
  const supported = ['en', 'de', 'fr'];
  it('takes ui_locales first, then Accept-Language, then the default; a region finds its language', () => {
    expect(chooseLanguage([['fr-CA', 'de'], ['de']], supported, 'en')).toBe('fr');
    expect(chooseLanguage([['ja'], ['de-CH', 'fr']], supported, 'en')).toBe('de');
    expect(chooseLanguage([[], ['it']], supported, 'fr')).toBe('fr');
  });

  it('skips what is no language tag at all rather than failing', () => {
    expect(chooseLanguage([['*', 'not a tag!', 'x'.repeat(500)], ['%%%', 'de']], supported, 'en')).toBe('de');
    expect(chooseLanguage([Array.from({ length: 10_000 }, () => 'zz')], supported, 'en')).toBe('en');
  });
});

describe('an operator\'s translation files', () => {
  const dir = (files: Record<string, string>) => {
    const at = mkdtempSync(path.join(tmpdir(), 'keystep-translations-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(at, name), text);
    return at;
  };

  it('override shipped texts and add languages, and every problem with them is listed at once', () => {
    const good = dir({ 'de.json': JSON.stringify({ 'title.sign-in': 'Einloggen' }), 'nl.json': JSON.stringify({ 'title.sign-in': 'Inloggen' }) });
    expect(loadTranslations({ dir: good, defaultLanguage: 'nl' }).problems).toEqual([]);
    const bad = dir({
      'de.json': JSON.stringify({ 'title.sign-in': 'Anmelden {wer}', NO_SUCH_TEXT: 'x', CODE_INCORRECT: '{attempts, plural, one {# Versuch}' }),
      'EN_gb.json': '{}',
      'fr.json': '{ not json',
      'it.json': '["a list"]',
      'nl.json': JSON.stringify({ 'title.sign-in': 42 }),
    });
    const problems = loadTranslations({ dir: bad, defaultLanguage: 'es' }).problems;
    expect(problems).toEqual([
      expect.stringMatching(/^EN_gb\.json: the file name must be a language tag/),
      expect.stringMatching(/^fr\.json: not valid JSON/),
      'it.json: must hold one JSON object of text keys and messages',
      'nl.json: title.sign-in must be a string',
      'de: title.sign-in takes {wer} but the English text takes {}',
      'de: NO_SUCH_TEXT is not a text Keystep has',
      expect.stringMatching(/^de: CODE_INCORRECT does not parse as ICU MessageFormat/),
      expect.stringMatching(/^the default language es has no texts/),
    ]);
    expect(readTranslationFiles(path.join(bad, 'missing')).problems).toEqual([expect.stringMatching(/^cannot read the directory .*: ENOENT$/)]);
  });

  it('refuse a text that parses but cannot be written out with the values Keystep gives it (a date of a name, an unknown unit)', () => {
    const at = dir({ 'de.json': JSON.stringify({
      'password.lead': 'Weiter zu {client, date}.',
      'account.signed-in-as': 'Angemeldet als {username, time}.',
      'account.backup.left': 'Sie haben {count, number, ::unit/no-such-unit}.',
      // Written differently from English, but every value Keystep gives reads: no problem.
      'sms.code.hint': '{numeric, select, yes {{length, plural, one {# Ziffer} other {# Ziffern}}} other {{length} Zeichen}}',
    }) });
    expect(loadTranslations({ dir: at, defaultLanguage: 'en' }).problems).toEqual([
      expect.stringMatching(/^de: password\.lead cannot be written out \(/),
      expect.stringMatching(/^de: account\.signed-in-as cannot be written out \(/),
      expect.stringMatching(/^de: account\.backup\.left cannot be written out \(/),
    ]);
  });

  it('read a text a regional file lacks in its language before English (de-AT, then de, then en)', () => {
    const texts = textFormatter({ en: { A: 'Sign in', B: 'Hello', C: 'Only English' }, de: { A: 'Anmelden', B: 'Hallo' }, 'de-AT': { A: 'Einloggen' } }, 'en');
    expect(['A', 'B', 'C'].map((key) => texts.format('de-AT', key))).toEqual(['Einloggen', 'Hallo', 'Only English']);
  });

  it('never fail a page over a text that cannot be written out: it reads in the fallback language', () => {
    const texts = textFormatter({ en: { A: 'Signed in as {name}.' }, de: { A: 'Angemeldet als {name, date}.' } }, 'en');
    expect(texts.format('de', 'A', { name: 'fay' })).toBe('Signed in as fay.');
    expect(textFormatter({ en: { A: 'Born {name, date}.' } }, 'en').format('en', 'A', { name: 'fay' })).toBe('A');
  });
});
