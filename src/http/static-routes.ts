import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { viewsDir } from './views.ts';

/**
 * Keystep's one script, the code page's resend countdown. Always Keystep's own copy, whatever
 * `viewsDir` says: the CSP allows it by this hash, so an edited copy would be refused anyway. A page
 * loads it with `integrity` set to the same hash (browsers match a hash source to an external
 * script only through it).
 */
export const resendScript = (() => {
  const body = readFileSync(path.join(viewsDir, 'static', 'resend-countdown.js'));
  return { path: '/static/resend-countdown.js', body, hash: `sha256-${createHash('sha256').update(body).digest('base64')}` };
})();

/** The stylesheet (from `dir`, which may be the operator's copy of views/) and the script, read once. */
export function staticRoutes(dir = viewsDir): Router {
  const css = readFileSync(path.join(dir, 'static', 'keystep.css'));
  const router = new Router();
  router.get('/static/keystep.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
  });
  router.get(resendScript.path, (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = resendScript.body;
  });
  return router;
}
