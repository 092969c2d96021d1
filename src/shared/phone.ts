import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneProblem = 'INVALID' | 'NOT_MOBILE';

/**
 * A number in E.164 form that can receive SMS, or the reason it cannot. US and Canadian numbers
 * cannot be told apart from landlines, so FIXED_LINE_OR_MOBILE is accepted too.
 */
export function normalizeMobile(input: string, defaultCountry?: string): { ok: true; e164: string; country: string | undefined } | { ok: false; problem: PhoneProblem } {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry as Parameters<typeof parsePhoneNumberFromString>[1]);
  if (!parsed || !parsed.isValid()) return { ok: false, problem: 'INVALID' };
  const type = parsed.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return { ok: false, problem: 'NOT_MOBILE' };
  return { ok: true, e164: parsed.number, country: parsed.country };
}

/** `+44 •••• ••34 56`: the country code and the last digits only, for pages, logs and events. */
export function maskPhone(e164: string | null | undefined, visibleDigits = 4): string {
  if (!e164) return '-';
  const parsed = parsePhoneNumberFromString(e164);
  const country = parsed ? parsed.countryCallingCode : '';
  const national = parsed ? parsed.nationalNumber : e164.replace(/\D/g, '');
  const shown = Math.min(visibleDigits, Math.max(0, national.length - 2));
  const masked = '•'.repeat(national.length - shown) + national.slice(national.length - shown);
  const groups = masked.match(/.{1,4}/g) ?? [];
  return `+${country} ${groups.join(' ')}`.replace('+ ', '+');
}
