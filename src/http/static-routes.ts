import { readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { viewsDir } from './views.ts';

/** The one stylesheet, read once. */
export function staticRoutes(dir = viewsDir): Router {
  const css = readFileSync(path.join(dir, 'static', 'keystep.css'));
  const router = new Router();
  router.get('/static/keystep.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
  });
  return router;
}
