// The chain's messages in English (their other languages in translations.ts); each factor keeps its
// own, the pages theirs (src/http/page-texts.ts), and the catalogue puts them together. Texts are ICU
// MessageFormat. Message codes travel between requests; text never does.
import { textFormatter, translationProblems, type TextParams, type Texts } from '../shared/i18n.ts';
import { chainTranslations } from './translations.ts';

export const messages = {
  LOGIN_EXPIRED: 'This sign-in has expired or is not valid. Go back to the app and start again.',
  LOGIN_FINISHING: 'This sign-in is being completed in another window or tab. Continue to return to the app.',
  CSRF_INVALID: 'This form has expired. Go back to the app and start again.',
  FORM_INVALID: 'The form could not be read. Go back and try again.',
  FORM_TOO_LARGE: 'The form was too large. Go back and try again.',
  FORM_TYPE: 'The form was sent in a format Keystep does not accept.',
  NOT_FOUND: 'There is nothing at this address.',
  SERVER_ERROR: 'Something went wrong on our side. Try again in a moment.',
  METHOD_NOT_ALLOWED: 'This address does not take that kind of request.',
  TOO_MANY_REQUESTS: 'Too many sign-in requests came from your network. Wait {seconds, plural, one {{seconds} second} other {{seconds} seconds}}, then try again.',
  TEMPORARILY_UNAVAILABLE: 'Keystep cannot reach its database right now. Nothing you entered was lost: try again shortly.',
  STALE_FORM: 'That page was out of date; here is the current step.',
  CODE_INCORRECT_PLAIN: 'That code is not right.',
  OTP_LOCKED: 'This account is locked after too many wrong codes. Try again in {minutes, plural, one {{minutes} minute} other {{minutes} minutes}} or ask your administrator to unlock it.',
  OTP_LOCKED_PLAIN: 'Codes for this account are locked after too many wrong ones. Try again later or ask your administrator to unlock it.',
  SIGNED_OUT_EVERYWHERE: 'You are signed out everywhere. Apps will ask you to sign in again.',
  ACCOUNT_BUSY: 'Another change to your account is under way. Try again in a moment.',
  LAST_SECOND_FACTOR: 'This is the last way your account has to prove it is you after the password. Add another (an authenticator app, a passkey or a number) before removing it.',
  NO_PHISHING_RESISTANT_FACTOR: 'This app asks for a passkey, and your account has none yet. Sign in to your account page as usual, add a passkey there, then sign in to the app again.',
  NO_SECOND_FACTOR: 'Your account has no mobile number for the sign-in code. Ask your administrator to add one, or use a backup code.',
} as const;

export type MessageCode = keyof typeof messages;

const info: ReadonlySet<string> = new Set<MessageCode>(['LOGIN_FINISHING', 'SIGNED_OUT_EVERYWHERE']);

/** The languages Keystep ships complete; an operator's translation files may add others. */
export const SHIPPED_LANGUAGES = ['en', 'de', 'fr'] as const;

/** A translation of a part: every one of its keys, for each shipped language but English. */
export type Translations<T extends Texts> = Readonly<Record<Exclude<(typeof SHIPPED_LANGUAGES)[number], 'en'>, Readonly<Record<keyof T, string>>>>;

/**
 * One owner's texts: message codes (they travel between requests), page texts (the views'), the
 * codes that report progress, and their other languages. The chain's, each factor's, the pages'.
 */
export interface TextPart {
  readonly messages: Texts;
  readonly texts?: Texts;
  readonly info?: readonly string[];
  readonly translations?: Readonly<Partial<Record<string, Texts>>>;
}

/** The chain's own part. */
export const chainPart: TextPart = { messages, translations: chainTranslations };

export interface CatalogueOptions {
  /** The language of a request that asks for none Keystep has. */
  defaultLanguage?: string;
  /** An operator's texts by language (see translation-files.ts): they win over the shipped ones. */
  operator?: Readonly<Record<string, Texts>>;
}

/** Every English text of the parts (the reference every language is checked against). */
export function englishTexts(parts: readonly TextPart[]): Record<string, string> {
  return Object.assign({}, ...[chainPart, ...parts].flatMap((p) => [p.messages, p.texts ?? {}]));
}

/** The shipped texts of each language, the parts' translations put together. */
export function shippedTexts(parts: readonly TextPart[]): Record<string, Record<string, string>> {
  const all = [chainPart, ...parts];
  const byLanguage: Record<string, Record<string, string>> = { en: englishTexts(parts) };
  for (const language of SHIPPED_LANGUAGES.slice(1)) byLanguage[language] = Object.assign({}, ...all.map((p) => p.translations?.[language] ?? {}));
  return byLanguage;
}

/** What is wrong with an operator's texts: unknown keys, messages that do not parse, other arguments; a default language no one has. */
export function operatorTextProblems(parts: readonly TextPart[], operator: Readonly<Record<string, Texts>>, defaultLanguage: string): string[] {
  const english = englishTexts(parts);
  const problems = Object.entries(operator).flatMap(([language, texts]) => translationProblems(english, texts, language, false));
  const languages = new Set([...SHIPPED_LANGUAGES, ...Object.keys(operator)]);
  if (!languages.has(defaultLanguage)) problems.push(`the default language ${defaultLanguage} has no texts: ship a file ${defaultLanguage}.json or choose one of ${[...languages].join(', ')}`);
  return problems;
}

/** Every text a page can show, in every language: the chain's, each factor's, the pages'. */
export function messageCatalogue(parts: readonly TextPart[], options: CatalogueOptions = {}) {
  const all = [chainPart, ...parts];
  const codes = new Set(all.flatMap((p) => Object.keys(p.messages)));
  const infos = new Set([...info, ...parts.flatMap((p) => p.info ?? [])]);
  const byLanguage = shippedTexts(parts);
  for (const [language, texts] of Object.entries(options.operator ?? {})) byLanguage[language] = { ...byLanguage[language], ...texts };
  const formatter = textFormatter(byLanguage, 'en');
  const defaultLanguage = options.defaultLanguage ?? 'en';
  const languageOf = (language: string | undefined) => (language && Object.hasOwn(byLanguage, language) ? language : defaultLanguage);
  return {
    /** Every language with texts, the shipped ones first. */
    languages: formatter.languages,
    defaultLanguage,
    has: (code: string) => codes.has(code),
    // Only codes: a stored code such as `constructor`, or a page text's key, reads as the generic error.
    text: (code: string, params: TextParams = {}, language?: string) => formatter.format(languageOf(language), codes.has(code) ? code : 'SERVER_ERROR', params),
    /** Any text (page texts too) in one language; a key no part has is shown as it is. */
    page: (key: string, params: TextParams = {}, language?: string) => formatter.format(languageOf(language), key, params),
    /** Whether the message reports progress ('info') or a problem ('error'). */
    kind: (code: string): 'info' | 'error' => (infos.has(code) ? 'info' : 'error'),
  };
}

export type MessageCatalogue = ReturnType<typeof messageCatalogue>;

/** Any text of the catalogue in a language (the catalogue's `page`): what SMS texts are made with. */
export type TextOf = (key: string, params?: TextParams, language?: string) => string;
