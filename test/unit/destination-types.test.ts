import { describe, expect, it } from 'vitest';
import { checkDestination } from '../../src/sms/destination-policy.ts';
import { SmsDestinationError } from '../../src/sms/port.ts';

describe('number types SMS are refused for (libphonenumber-js/max metadata)', () => {
  it('refuses premium-rate, freephone, shared-cost and fixed-line numbers before the gateway, and sends to mobiles', () => {
    // Premium rate (GB, FR), freephone, shared cost, fixed line; VoIP, UAN, pager, and the UK's 070
    // personal numbers, which look like mobiles (07…) and are a known toll-fraud range.
    for (const number of ['+449098790000', '+448001111111', '+448431234567', '+442071838750', '+33899123456', '+445612345678', '+445512345678', '+447640123456', '+447012345678']) {
      expect(() => checkDestination(number, ['*']), number).toThrow(SmsDestinationError);
      expect(() => checkDestination(number, ['*']), number).toThrow(/not a mobile number/);
    }
    expect(checkDestination('+44 7400 123456', ['*'])).toBe('+447400123456');
    // US and Canadian numbers cannot be told apart from landlines: they are sent to.
    expect(checkDestination('+12015550123', ['*'])).toBe('+12015550123');
  });
});
