import { describe, expect, it } from 'vitest';
import { accountName, parseAccountName, parseDomain } from '../../src/shared/account-name.ts';

describe('account names', () => {
  it('reads domain/username, with primary for a name without a domain', () => {
    expect(parseAccountName('alice')).toEqual({ domain: 'primary', username: 'alice' });
    expect(parseAccountName(' Partners/Alice ')).toEqual({ domain: 'partners', username: 'Alice' });
    expect(parseAccountName('PRIMARY/alice')).toEqual({ domain: 'primary', username: 'alice' });
  });

  it('keeps a name whose first part is no domain whole, so it matches no account', () => {
    expect(parseAccountName('/alice')).toEqual({ domain: 'primary', username: '/alice' });
    expect(parseAccountName('bad domain/alice')).toEqual({ domain: 'primary', username: 'bad domain/alice' });
    expect(parseAccountName('a\u0000/alice')).toEqual({ domain: 'primary', username: 'a\u0000/alice' });
  });

  it('shows primary accounts without their domain', () => {
    expect(accountName({ domain: 'primary', username: 'alice' })).toBe('alice');
    expect(accountName({ domain: 'partners', username: 'alice' })).toBe('partners/alice');
    expect(parseDomain('x'.repeat(32))).toBe('x'.repeat(32));
    expect(parseDomain('x'.repeat(33))).toBeUndefined();
    expect(parseDomain('-x')).toBeUndefined();
  });
});
