import { describe, expect, it } from 'vitest';
import { clientAddressOf, proxyList } from '../../src/http/client-address.ts';
import { loadConfig } from '../../src/config/load.ts';

describe('the client address behind trusted proxies', () => {
  const list = proxyList(['10.0.0.0/8', '192.0.2.1', 'fd00::/8']);

  it('believes X-Forwarded-For only from a trusted proxy, and only up to the first hop that is not one', () => {
    // Straight from a client: whatever it wrote is ignored.
    expect(clientAddressOf('203.0.113.5', '198.51.100.1', list)).toBe('203.0.113.5');
    // Through one proxy: the address it added.
    expect(clientAddressOf('10.1.2.3', '198.51.100.1', list)).toBe('198.51.100.1');
    // Through two: the client's own entry on the left is not believed.
    expect(clientAddressOf('10.1.2.3', '1.2.3.4, 198.51.100.1, 192.0.2.1', list)).toBe('198.51.100.1');
    expect(clientAddressOf('::ffff:10.1.2.3', ' [2001:db8::7] ', list)).toBe('2001:db8::7');
    expect(clientAddressOf('fd00::1', '10.0.0.9, 10.0.0.8', list)).toBe('10.0.0.9');
    // Some proxies write the client's port too (Azure's Application Gateway): the address is the client's.
    expect(clientAddressOf('10.1.2.3', '198.51.100.1:54321', list)).toBe('198.51.100.1');
    expect(clientAddressOf('10.1.2.3', '[2001:db8::7]:443', list)).toBe('2001:db8::7');
    expect(clientAddressOf('10.1.2.3', '1.2.3.4, 198.51.100.1:54321, 192.0.2.1:80', list)).toBe('198.51.100.1');
    // Garbage in the header: the last trusted hop is all that is known.
    expect(clientAddressOf('10.1.2.3', 'not-an-address', list)).toBe('10.1.2.3');
    expect(clientAddressOf('10.1.2.3', undefined, list)).toBe('10.1.2.3');
  });

  it('takes addresses and CIDR ranges in the settings, and names what is not one', () => {
    expect(loadConfig({ KEYSTEP_TRUSTED_PROXIES: '10.0.0.0/8,192.0.2.1,fd00::/8' }).trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.1', 'fd00::/8']);
    expect(() => loadConfig({ KEYSTEP_TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/trustedProxies.*an IP address or a CIDR range/);
    expect(() => loadConfig({ KEYSTEP_TRUSTED_PROXIES: 'proxy.internal' })).toThrow(/an IP address or a CIDR range/);
  });
});
