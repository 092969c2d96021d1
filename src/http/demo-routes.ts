import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { sendPage, type Views } from './views.ts';

const COOKIE = 'keystep_demo';

interface DemoOptions {
  issuer: string;
  clientId: string;
  views: Views;
}

function decodeJwtPayload(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * A tiny relying party for trying Keystep in a browser (development only): it starts a code + PKCE
 * login against this Keystep and shows the ID token's claims. It never shows the tokens themselves.
 */
export function demoRoutes({ issuer, clientId, views }: DemoOptions): Router {
  const router = new Router({ prefix: '/demo' });
  const redirectUri = `${issuer}/demo/callback`;

  router.get('/', (ctx) => {
    sendPage(ctx, views, 'demo', { title: 'Demo app' });
  });

  router.get('/login', (ctx) => {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    ctx.cookies.set(COOKIE, JSON.stringify({ verifier, state, nonce }), { signed: true, httpOnly: true, sameSite: 'lax', path: '/demo', maxAge: 600_000 });
    const url = new URL(`${issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: clientId, response_type: 'code', scope: 'openid profile phone', redirect_uri: redirectUri, state, nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      ...(ctx.query.mfa === '1' ? { acr_values: 'urn:keystep:acr:mfa' } : {}),
    }).toString();
    ctx.redirect(url.toString());
  });

  router.get('/callback', async (ctx) => {
    const saved = ctx.cookies.get(COOKIE, { signed: true });
    const stored = saved ? (JSON.parse(saved) as { verifier: string; state: string; nonce: string }) : undefined;
    if (!stored || ctx.query.state !== stored.state) {
      return sendPage(ctx, views, 'demo', { title: 'Demo app', error: 'The sign-in response did not match this browser. Start again.' }, 400);
    }
    ctx.cookies.set(COOKIE, null, { path: '/demo' });
    if (typeof ctx.query.error === 'string') {
      return sendPage(ctx, views, 'demo', { title: 'Demo app', error: `Keystep answered ${ctx.query.error}: ${String(ctx.query.error_description ?? '')}` });
    }
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: String(ctx.query.code ?? ''), redirect_uri: redirectUri, client_id: clientId, code_verifier: stored.verifier }),
    });
    const body = (await response.json()) as Record<string, string>;
    if (!response.ok || !body.id_token) {
      return sendPage(ctx, views, 'demo', { title: 'Demo app', error: `The token request failed: ${body.error ?? response.status}` });
    }
    const claims = decodeJwtPayload(body.id_token);
    sendPage(ctx, views, 'demo', { title: 'Demo app', claims: JSON.stringify(claims, null, 2), nonceOk: claims.nonce === stored.nonce });
  });

  return router;
}
