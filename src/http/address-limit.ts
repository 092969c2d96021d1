import type { Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { renderErrorPage } from './error-pages.ts';
import type { Views } from './views.ts';
import { addressKey } from '../shared/address.ts';

export interface AddressLimitSettings {
  perAddress: number;
  windowSeconds: number;
}

// The paths where a request nobody has authenticated makes Keystep write rows: the authorization
// endpoint and its resume (an Interaction), pushed requests, logout, and the login pages (a login
// flow, events).
// Both routers match paths regardless of case, so this does too, on the decoded path.
const LIMITED = /^\/(?:auth|request|session\/end|interaction)(?:\/|$)/i;

function limited(path: string): boolean {
  try {
    return LIMITED.test(decodeURIComponent(path));
  } catch {
    return LIMITED.test(path);
  }
}


/**
 * At most `perAddress` such requests per client address (`ctx.ip`, which honours `trustProxy`; an
 * IPv6 address by its /64) per window. The counts live in this process's memory: each instance has its own bound.
 */
export function addressLimit(settings: AddressLimitSettings, views: Views): Middleware {
  const limiter = new RateLimiterMemory({ points: settings.perAddress, duration: settings.windowSeconds });
  return async (ctx, next) => {
    if (!limited(ctx.path)) return next();
    try {
      await limiter.consume(addressKey(ctx.ip));
    } catch (refused) {
      if (!(refused instanceof RateLimiterRes)) throw refused;
      const seconds = Math.max(1, Math.ceil(refused.msBeforeNext / 1000));
      ctx.set('Retry-After', String(seconds));
      renderErrorPage(ctx, views, 429, 'TOO_MANY_REQUESTS', { seconds });
      return;
    }
    await next();
  };
}
