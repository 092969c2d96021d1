import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { viewsDir } from './views.ts';

export interface OwnScript {
  path: string;
  body: Buffer;
  hash: string;
}

/**
 * Keystep's scripts. Always Keystep's own copies, whatever `viewsDir` says: the CSP allows each by
 * its hash, so an edited copy would be refused anyway. A page loads one with `integrity` set to the
 * same hash (browsers match a hash source to an external script only through it).
 */
function ownScript(file: string): OwnScript {
  const body = readFileSync(path.join(viewsDir, 'static', file));
  return { path: `/static/${file}`, body, hash: `sha256-${createHash('sha256').update(body).digest('base64')}` };
}

/** The code page's resend countdown. */
export const resendScript = ownScript('resend-countdown.js');
/** The passkey pages' call to the browser's WebAuthn. */
export const passkeyScript = ownScript('passkey.js');
/** Posts the provider's auto-submitting form (form_post, a sign-out before a sign-in). */
export const formPostScript = ownScript('form-post.js');
export const ownScripts: readonly OwnScript[] = [resendScript, passkeyScript, formPostScript];

/** The stylesheet (from `dir`, which may be the operator's copy of views/) and the scripts, read once. */
export function staticRoutes(dir = viewsDir): Router {
  const css = readFileSync(path.join(dir, 'static', 'keystep.css'));
  const router = new Router();
  router.get('/static/keystep.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
  });
  for (const script of ownScripts) {
    router.get(script.path, (ctx) => {
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = script.body;
    });
  }
  return router;
}
