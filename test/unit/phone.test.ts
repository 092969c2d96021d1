import { describe, expect, it } from 'vitest';
import { maskPhone, normalizeMobile, phoneFacts } from '../../src/shared/phone.ts';

describe('phone numbers', () => {
  it('normalises mobile numbers to E.164 and refuses landlines and junk', () => {
    expect(normalizeMobile('+44 7400 123456')).toMatchObject({ ok: true, e164: '+447400123456', country: 'GB' });
    expect(normalizeMobile('+14155552671')).toMatchObject({ ok: true, e164: '+14155552671' });
    expect(normalizeMobile('07400 123456', 'GB')).toMatchObject({ ok: true, e164: '+447400123456' });
    expect(normalizeMobile('+442071838750')).toEqual({ ok: false, problem: 'NOT_MOBILE' });
    expect(normalizeMobile('not a number')).toEqual({ ok: false, problem: 'INVALID' });
    expect(normalizeMobile('+44 12')).toEqual({ ok: false, problem: 'INVALID' });
    // Answers are remembered per number and default country, never mixed up between them.
    expect(normalizeMobile('07400 123456')).toEqual({ ok: false, problem: 'INVALID' });
    expect(normalizeMobile('07400 123456', 'GB')).toMatchObject({ ok: true, e164: '+447400123456' });
    expect(normalizeMobile('+442071838750')).toEqual({ ok: false, problem: 'NOT_MOBILE' });
    // "Not a number" is remembered too, and still answered as undefined the second time.
    expect(phoneFacts('no digits here')).toBeUndefined();
    expect(phoneFacts('no digits here')).toBeUndefined();
  });

  it('masks all but the country code and the last digits', () => {
    expect(maskPhone('+447911123456')).toBe('+44 •••• ••34 56');
    expect(maskPhone('+447911123456', 2)).toBe('+44 •••• •••• 56');
    expect(maskPhone('+14155552671')).toBe('+1 •••• ••26 71');
    expect(maskPhone(null)).toBe('-');
  });
});
