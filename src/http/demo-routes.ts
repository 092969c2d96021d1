import Router from '@koa/router';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import { ACR_MFA } from '../shared/acr.ts';
import { allowHttpIssuer, signInRequest } from './own-client.ts';
import { sendPage, type Views } from './views.ts';

const COOKIE = 'keystep_demo';
const TITLE = 'title.demo';

interface DemoOptions {
  issuer: string;
  clientId: string;
  views: Views;
}

/** What the page says when the sign-in did not finish, and with which status. */
function failure(err: unknown): { error: string; status: number } {
  if (err instanceof oidc.AuthorizationResponseError) return { error: `Keystep answered ${err.error}: ${err.error_description ?? ''}`, status: 200 };
  if (err instanceof oidc.ResponseBodyError) return { error: `The token request failed: ${err.error}`, status: 200 };
  // The checks' own words (a wrong state, issuer or nonce, a bad ID token) name no value.
  if (err instanceof oidc.ClientError && err.code) {
    const reason = err.cause instanceof Error ? err.cause.message : err.message;
    return { error: `The sign-in response did not pass its checks (${reason}). Start again.`, status: 400 };
  }
  throw err;
}

/**
 * A tiny relying party for trying Keystep in a browser (development only), written as any app would
 * be, with openid-client: discovery, code + PKCE, state, nonce, the `iss` response parameter and the
 * ID token's checks (its signature too). It calls Keystep over HTTP at the issuer and shows the ID
 * token's claims, never the tokens themselves.
 */
export function demoRoutes({ issuer, clientId, views }: DemoOptions): Router {
  const router = new Router({ prefix: '/demo' });
  const redirectUri = `${issuer}/demo/callback`;

  // Discovered at the first sign-in (the server is listening by then) and kept; a failure is retried.
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    if (!discovered) {
      discovered = oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { execute: [...allowHttpIssuer(issuer), oidc.enableNonRepudiationChecks] });
      discovered.catch(() => { discovered = undefined; });
    }
    return discovered;
  };

  const show = (ctx: Context, locals: Record<string, unknown>, status?: number) => sendPage(ctx, views, 'demo', { title: TITLE, ...locals }, status);

  router.get('/', (ctx) => show(ctx, {}));

  router.get('/login', async (ctx) => {
    const nonce = oidc.randomNonce();
    const { url, state, verifier } = signInRequest(await configuration(), redirectUri, {
      scope: 'openid profile phone', nonce, ...(ctx.query.mfa === '1' ? { acr_values: ACR_MFA } : {}),
    });
    ctx.cookies.set(COOKIE, JSON.stringify({ verifier, state, nonce }), { signed: true, httpOnly: true, sameSite: 'lax', path: '/demo', maxAge: 600_000 });
    ctx.redirect(url.toString());
  });

  router.get('/callback', async (ctx) => {
    const saved = ctx.cookies.get(COOKIE, { signed: true });
    if (!saved) return show(ctx, { error: 'demo.mismatch' }, 400);
    const stored = JSON.parse(saved) as { verifier: string; state: string; nonce: string };
    ctx.cookies.set(COOKIE, null, { path: '/demo' });
    try {
      const tokens = await oidc.authorizationCodeGrant(await configuration(), new URL(`${redirectUri}?${ctx.querystring}`), {
        pkceCodeVerifier: stored.verifier, expectedState: stored.state, expectedNonce: stored.nonce, idTokenExpected: true,
      });
      show(ctx, { claims: JSON.stringify(tokens.claims(), null, 2) });
    } catch (err) {
      const { error, status } = failure(err);
      show(ctx, { error }, status);
    }
  });

  return router;
}
