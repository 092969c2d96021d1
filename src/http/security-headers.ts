import type { Middleware } from 'koa';

// No inline script anywhere, no framing (clickjacking), no referrer leaking codes in URLs.
const csp = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    if (!ctx.path.startsWith('/static/')) ctx.set('Cache-Control', 'no-store');
    await next();
  };
}
