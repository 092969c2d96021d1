import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { LRUCache } from 'lru-cache';

export type PhoneProblem = 'INVALID' | 'NOT_MOBILE';

/** What Keystep needs to know of a number, read once from libphonenumber's full metadata. */
export interface PhoneFacts {
  e164: string;
  /** ISO 3166 code, when the number belongs to one country. */
  country: string | undefined;
  countryCallingCode: string;
  nationalNumber: string;
  valid: boolean;
  /** A number that can receive SMS (FIXED_LINE_OR_MOBILE too: US and Canadian numbers cannot be told apart). */
  mobile: boolean;
}

// A login looks at its number several times (the country check, the masked form on the page, in the
// logs and events), and parsing with the full metadata costs more than the rest of those together.
// Bounded, since numbers typed in phone capture come from users: the least recently used goes first.
// lru-cache keeps no undefined, so "not a number" is remembered as false.
const cache = new LRUCache<string, PhoneFacts | false>({ max: 10_000 });

/** The facts of a number as typed (national numbers in `defaultCountry`), or undefined if it is none. */
export function phoneFacts(input: string, defaultCountry?: string): PhoneFacts | undefined {
  const key = `${defaultCountry ?? ''}\u0000${input}`;
  const known = cache.get(key);
  if (known !== undefined) return known || undefined;
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry as Parameters<typeof parsePhoneNumberFromString>[1]);
  const type = parsed?.getType();
  const facts = parsed && {
    e164: parsed.number,
    country: parsed.country,
    countryCallingCode: parsed.countryCallingCode,
    nationalNumber: parsed.nationalNumber,
    valid: parsed.isValid(),
    mobile: type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE',
  };
  cache.set(key, facts ?? false);
  return facts;
}

/** A number in E.164 form that can receive SMS, or the reason it cannot. */
export function normalizeMobile(input: string, defaultCountry?: string): { ok: true; e164: string; country: string | undefined } | { ok: false; problem: PhoneProblem } {
  const facts = phoneFacts(input, defaultCountry);
  if (!facts || !facts.valid) return { ok: false, problem: 'INVALID' };
  if (!facts.mobile) return { ok: false, problem: 'NOT_MOBILE' };
  return { ok: true, e164: facts.e164, country: facts.country };
}

/** `+44 •••• ••34 56`: the country code and the last digits only, for pages, logs and events. */
export function maskPhone(e164: string | null | undefined, visibleDigits = 4): string {
  if (!e164) return '-';
  const facts = phoneFacts(e164);
  const country = facts ? facts.countryCallingCode : '';
  const national = facts ? facts.nationalNumber : e164.replace(/\D/g, '');
  const shown = Math.min(visibleDigits, Math.max(0, national.length - 2));
  const masked = '•'.repeat(national.length - shown) + national.slice(national.length - shown);
  const groups = masked.match(/.{1,4}/g) ?? [];
  return `+${country} ${groups.join(' ')}`.replace('+ ', '+');
}

/** Whether a number of this length could exist where `e164` begins (libphonenumber's possible lengths; the digits are not checked). */
export function possibleNumber(e164: string): boolean {
  return parsePhoneNumberFromString(e164)?.isPossible() ?? false;
}

/** A number range (`+44740012`) as operators see it: `+44740012••••`, the hidden digits as dots. */
export function maskedPrefix(prefix: string, hiddenDigits = 4): string {
  return `${prefix}${'•'.repeat(hiddenDigits)}`;
}

/** A number's ISO country for labels and tallies, `ZZ` for a number of no single country (never the number). */
export const countryOf = (e164: string): string => phoneFacts(e164)?.country ?? 'ZZ';
