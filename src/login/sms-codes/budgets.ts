import { createHmac, type KeyObject } from 'node:crypto';
import { addSeconds } from '../../shared/clock.ts';
import { phoneFacts } from '../../shared/phone.ts';
import type { Random } from '../../shared/random.ts';
import type { SmsReservation } from './ports.ts';
import { addressKey } from '../../shared/address.ts';

/**
 * Every budget an SMS code is sent within, against SMS pumping: each counts the sends that reached
 * the gateway or may have, in Postgres, so every instance shares them.
 */
export interface SmsBudgetPolicy {
  /** Sends per login: the first code and its resends (smsOtp.maxResends + 1). */
  perLogin: number;
  account: { limit: number; windowSeconds: number };
  address: { limit: number; windowSeconds: number };
  hour: { limit: number; windowSeconds: number };
  perDay: number;
  number: { limit: number; windowSeconds: number };
  prefix: { limit: number; windowSeconds: number; hiddenDigits: number };
  country: { limit: number; windowSeconds: number; limits: Readonly<Record<string, number>> };
  backoff: { after: number; minSeconds: number; maxSeconds: number; jitter: number; windowSeconds: number };
  pumping: { enabled: boolean; windowSeconds: number; graceSeconds: number; threshold: number; prefixMinSent: number; countryMinSent: number };
}

const DAY_SECONDS = 86_400;

/** The range a number is counted under: the number without its last `hiddenDigits` digits. */
export function numberPrefix(e164: string, hiddenDigits: number): string {
  return e164.slice(0, Math.max(2, e164.length - hiddenDigits));
}

/** The country a number is counted under: its ISO code, or `+<calling code>` when it has none (e.g. +800). */
export function numberCountry(e164: string): string {
  const facts = phoneFacts(e164);
  return facts?.country ?? `+${facts?.countryCallingCode ?? e164.replace(/\D/g, '').slice(0, 3)}`;
}


/** A fraction in [0, 1) from the injected randomness (bytes, so that codes drawn with `int` stay as scripted). */
function fraction(random: Random): number {
  return random.bytes(2).readUInt16BE(0) / 65_536;
}

/** What one SMS to `to` is taken from, at `now`. */
export function smsReservation(policy: SmsBudgetPolicy, numberKey: KeyObject, random: Random, request: { accountId: string; flowUid: string; ip: string | null; destination: string; to: string; now: Date }): SmsReservation {
  const { now, to } = request;
  const since = (seconds: number) => addSeconds(now, -seconds);
  const country = numberCountry(to);
  const { pumping, backoff } = policy;
  return {
    accountId: request.accountId, flowUid: request.flowUid, ip: request.ip === null ? null : addressKey(request.ip), at: now, destination: request.destination,
    numberKey: createHmac('sha256', numberKey).update(to).digest('base64url'),
    prefix: numberPrefix(to, policy.prefix.hiddenDigits),
    country,
    budgets: {
      login: { since: since(DAY_SECONDS), limit: policy.perLogin },
      account: { since: since(policy.account.windowSeconds), limit: policy.account.limit },
      number: { since: since(policy.number.windowSeconds), limit: policy.number.limit },
      prefix: { since: since(policy.prefix.windowSeconds), limit: policy.prefix.limit },
      ...(request.ip === null ? {} : { address: { since: since(policy.address.windowSeconds), limit: policy.address.limit } }),
      country: { since: since(policy.country.windowSeconds), limit: policy.country.limits[country] ?? policy.country.limit },
      hour: { since: since(policy.hour.windowSeconds), limit: policy.hour.limit },
      day: { since: since(DAY_SECONDS), limit: policy.perDay },
    },
    backoff: {
      since: since(backoff.windowSeconds), after: backoff.after, minSeconds: backoff.minSeconds, maxSeconds: backoff.maxSeconds,
      jitter: backoff.jitter * fraction(random),
    },
    breaker: {
      enabled: pumping.enabled, since: since(pumping.windowSeconds), until: since(pumping.graceSeconds),
      prefixMinSent: pumping.prefixMinSent, countryMinSent: pumping.countryMinSent, threshold: pumping.threshold,
    },
  };
}
