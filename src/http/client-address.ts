import { BlockList, isIP } from 'node:net';
import type { Middleware } from 'koa';

/** `trustedProxies` as a list Node can match addresses against: single addresses or CIDR ranges. */
export function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

// An entry as proxies write it: IPv6 in brackets, and some (Azure's Application Gateway) add the port.
const bare = (address: string) => address.trim()
  .replace(/^\[([^\]]*)\](?::\d+)?$/, '$1')
  .replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1')
  .replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');

function trusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: the peer's, unless the peer is a trusted proxy; then the nearest address in
 * `X-Forwarded-For` that is not a trusted proxy itself (entries further left are the client's to write).
 */
export function clientAddressOf(peer: string, forwardedFor: string | undefined, list: BlockList): string {
  let address = bare(peer);
  if (!forwardedFor) return address;
  const hops = forwardedFor.split(',').map(bare).filter(Boolean);
  while (hops.length > 0 && trusted(list, address)) {
    const next = hops.pop()!;
    // Garbage where an address should be: the last trusted hop is all that is known.
    if (isIP(next) === 0) break;
    address = next;
  }
  return address;
}

/**
 * With `trustedProxies` set, `ctx.ip` (the per-address request limit, the SMS budgets, the audit
 * trail) honours `X-Forwarded-For` only from those proxies: a client reaching Keystep past them
 * cannot pick its own address.
 */
export function clientAddress(trustedProxies: readonly string[]): Middleware {
  const list = proxyList(trustedProxies);
  return async (ctx, next) => {
    ctx.request.ip = clientAddressOf(ctx.req.socket.remoteAddress ?? '', ctx.get('x-forwarded-for') || undefined, list);
    await next();
  };
}
