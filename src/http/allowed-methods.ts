import type { Middleware } from 'koa';

interface MatchedLayer {
  methods: string[];
}

/**
 * One answer to a wrong method across all of Keystep's routers: 405 with `Allow` where one of them
 * has the path, the catch-all 404 where none has. (@koa/router's own `allowedMethods` answers 501 to
 * every method outside its short list, on every path, including paths no router has.)
 */
export function allowedMethods(): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status !== 404 || ctx.body != null) return;
    const matched = (ctx as { matched?: MatchedLayer[] }).matched ?? [];
    const allowed = [...new Set(matched.flatMap((layer) => layer.methods))];
    // No router has the path; or one takes this method and its own answer is the 404.
    if (allowed.length === 0 || allowed.includes(ctx.method)) return;
    ctx.set('Allow', allowed.join(', '));
    if (ctx.method === 'OPTIONS') {
      ctx.status = 200;
      ctx.body = '';
      return;
    }
    ctx.status = 405;
  };
}
