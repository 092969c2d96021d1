import { normalizeMobile, phoneFacts } from '../shared/phone.ts';
import { SmsDestinationError, type SmsSender } from './port.ts';

/** Whether a number may be sent to: `allowed` holds calling codes (`44`, `+1`) or ISO codes (`GB`); empty or `*` allows all. */
export function destinationAllowed(e164: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0 || allowed.includes('*')) return true;
  const parsed = phoneFacts(e164);
  if (!parsed) return false;
  return allowed.some((entry) => /^\+?\d+$/.test(entry)
    ? entry.replace('+', '') === parsed.countryCallingCode
    : entry.toUpperCase() === parsed.country);
}

/** Checks where an SMS goes before the gateway is called: a valid mobile number, in an allowed country. */
export function checkDestination(to: string, allowed: readonly string[]): string {
  const result = normalizeMobile(to);
  if (!result.ok) throw new SmsDestinationError(result.problem === 'NOT_MOBILE' ? 'the number is not a mobile number' : 'the number is not a valid phone number');
  if (!destinationAllowed(result.e164, allowed)) throw new SmsDestinationError('SMS to this country are not allowed (sms.allowedCountries)');
  return result.e164;
}

export function withDestinationPolicy(sender: SmsSender, allowed: readonly string[]): SmsSender {
  return {
    send: async (message) => sender.send({ ...message, to: checkDestination(message.to, allowed) }),
  };
}
