import { sameSecret } from '../shared/same-secret.ts';
import Router from '@koa/router';

export type Scrape = () => Promise<{ contentType: string; body: string }>;


/**
 * Whether a request's `Authorization` header carries the token. Both sides are hashed first, so the
 * compare takes the same time whatever the length or content of what was sent.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const sent = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1] ?? '';
  return sameSecret(sent, token) && sent.length > 0;
}

/** `/metrics` on the main listener, for a scraper that presents the configured bearer token. */
export function metricsRoutes(scrape: Scrape, token: string): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (!bearerMatches(ctx.get('authorization') || undefined, token)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.type = 'text/plain';
      ctx.body = 'The metrics need the bearer token configured as metrics.bearerToken.\n';
      return;
    }
    const { contentType, body } = await scrape();
    ctx.type = contentType;
    ctx.body = body;
  });
  return router;
}
