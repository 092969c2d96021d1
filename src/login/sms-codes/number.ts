import { normalizeMobile } from '../../shared/phone.ts';
import type { AccountStore } from '../ports.ts';
import type { SmsCodeMessage } from './messages.ts';

export interface NumberRules {
  /** Country of numbers typed without a country code. */
  defaultCountry: string | undefined;
  /** Whether a number may get SMS at all (the country allow-list). */
  destinationAllowed(e164: string): boolean;
  /** A number verified on one account may not be verified on another. */
  phoneUnique: boolean;
}

export type NumberCheck = { ok: true; e164: string } | { ok: false; problem: 'missing' | 'invalid' | 'not-mobile' | 'country' | 'taken' };

const notices = { missing: 'PHONE_MISSING', invalid: 'PHONE_INVALID', 'not-mobile': 'PHONE_NOT_MOBILE', country: 'PHONE_COUNTRY_REFUSED', taken: 'PHONE_UNAVAILABLE' } as const satisfies Record<string, SmsCodeMessage>;

export function numberNotice(problem: (NumberCheck & { ok: false })['problem']): SmsCodeMessage {
  return notices[problem];
}

/** The checks a number typed for sign-in codes passes, at login (phone capture) and on the account page. */
export function numberChecks(accounts: Pick<AccountStore, 'findIdsByVerifiedPhone'>, rules: NumberRules) {
  return {
    /** Whether another account has this number verified (the same answer whoever holds it). */
    async takenElsewhere(accountId: string, e164: string): Promise<boolean> {
      if (!rules.phoneUnique) return false;
      return (await accounts.findIdsByVerifiedPhone(e164)).some((id) => id !== accountId);
    },

    async check(accountId: string, input: string): Promise<NumberCheck> {
      if (!input.trim()) return { ok: false, problem: 'missing' };
      const parsed = normalizeMobile(input.slice(0, 64), rules.defaultCountry);
      if (!parsed.ok) return { ok: false, problem: parsed.problem === 'NOT_MOBILE' ? 'not-mobile' : 'invalid' };
      if (!rules.destinationAllowed(parsed.e164)) return { ok: false, problem: 'country' };
      if (await this.takenElsewhere(accountId, parsed.e164)) return { ok: false, problem: 'taken' };
      return { ok: true, e164: parsed.e164 };
    },
  };
}

