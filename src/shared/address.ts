import { isIP } from 'node:net';

/**
 * The key a client address is counted under by the per-address limits: an IPv4 address as it is
 * (also when IPv6-mapped), an IPv6 address by its /64, the block one subscriber is given, so that
 * its 2^64 addresses count as one. Brackets and a zone are dropped.
 */
export function addressKey(address: string): string {
  const ip = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}
