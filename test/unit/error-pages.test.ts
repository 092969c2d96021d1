import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorPages } from '../../src/http/error-pages.ts';
import { languageFromHeaders } from '../../src/http/language.ts';
import { providerPages } from '../../src/http/provider-pages.ts';
import { textParts } from '../../src/app.ts';
import { createViews, viewsDir } from '../../src/http/views.ts';
import { messageCatalogue } from '../../src/login/messages.ts';
import { factorModules } from '../../src/login/registry.ts';
import { AppError } from '../../src/shared/errors.ts';
import { createLogger } from '../../src/shared/log.ts';

/**
 * A real HTTP server whose paths throw, or hand the provider's error page an error, the way
 * Keystep's routes and oidc-provider do; both go through the same renderer.
 */
describe('error pages', () => {
  const logLines: string[] = [];
  const log = createLogger('info', new Writable({ write(chunk, _e, done) { logLines.push(String(chunk)); done(); } }) as never);
  const views = createViews('Keystep', viewsDir, messageCatalogue(textParts(factorModules)));
  const provider = providerPages(views, log);
  let server: import('node:http').Server;
  let origin: string;

  const routes: Record<string, (ctx: Koa.Context) => Promise<void>> = {
    '/expired': async () => { throw new AppError(400, 'LOGIN_EXPIRED'); },
    '/broken': async () => { throw new AppError(500, 'LOGIN_EXPIRED', { cause: new Error('secret detail') }); },
    '/shown-5xx': async () => { throw new AppError(503, 'TEMPORARILY_UNAVAILABLE', { expose: true }); },
    '/hidden-4xx': async () => { throw new AppError(403, 'LOGIN_EXPIRED', { expose: false }); },
    '/crash': async () => { throw new Error('secret detail'); },
    '/provider': async (ctx) => {
      ctx.status = 400;
      await provider.error(ctx as never, { error: 'invalid_request', error_description: 'missing required parameter' }, new Error('invalid_request'));
    },
    '/provider-crash': async (ctx) => {
      ctx.status = 500;
      await provider.error(ctx as never, { error: 'server_error', error_description: 'oops! something went wrong' }, new Error('secret detail'));
    },
  };

  beforeAll(async () => {
    const app = new Koa();
    app.use(languageFromHeaders(views.texts));
    app.use(errorPages(views, log));
    app.use(async (ctx) => { await routes[ctx.path]!(ctx); });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const get = async (path: string, accept = 'text/html', language = 'en') => {
    const res = await fetch(`${origin}${path}`, { headers: { accept, 'accept-language': language } });
    return { status: res.status, text: await res.text() };
  };

  it('exposes 4xx errors and hides 5xx by default; expose says otherwise either way', async () => {
    expect(new AppError(404, 'NOT_FOUND')).toMatchObject({ status: 404, statusCode: 404, code: 'NOT_FOUND', expose: true });
    expect(new AppError(500, 'SERVER_ERROR').expose).toBe(false);

    const expired = await get('/expired');
    expect(expired.status).toBe(400);
    expect(expired.text).toContain('This sign-in has expired or is not valid.');

    logLines.length = 0;
    const broken = await get('/broken');
    expect(broken.status).toBe(500);
    expect(broken.text).toContain('Something went wrong on our side.');
    expect(broken.text).not.toContain('LOGIN_EXPIRED');
    expect(broken.text).not.toContain('secret detail');
    expect(logLines.join('')).toContain('secret detail');

    expect((await get('/shown-5xx')).text).toContain('Keystep cannot reach its database right now.');
    const hidden = await get('/hidden-4xx');
    expect(hidden.status).toBe(403);
    expect(hidden.text).not.toContain('LOGIN_EXPIRED');
    expect(await get('/broken', 'application/json')).toEqual({ status: 500, text: JSON.stringify({ error: 'server_error', error_description: 'Something went wrong on our side. Try again in a moment.' }) });
  });

  it('renders the provider\'s errors on the same page, a server error as generically as ours', async () => {
    const own = await get('/expired');
    const theirs = await get('/provider');
    expect(theirs.status).toBe(400);
    expect(theirs.text).toContain('Sign-in request not accepted');
    expect(theirs.text).toContain("The app sent a sign-in request that Keystep cannot accept. Go back to the app and try again. For the app's developer: missing required parameter");
    expect(theirs.text).toContain('Error code: invalid_request');
    // In the user's language, but for the description the provider gives the app's developer.
    expect((await get('/provider', 'text/html', 'de')).text).toContain('Die App hat eine Anmeldeanfrage gesendet, die Keystep nicht annehmen kann. Kehren Sie zur App zurück und versuchen Sie es erneut. Für die Entwickler der App (auf Englisch): missing required parameter');
    // The same page: everything but the heading, the message and the code is alike.
    const frame = (html: string) => html.replace(/<title>.*?<\/title>/s, '').replace(/<h1[^>]*>.*?<\/h1>/s, '').replace(/<p class="message[^"]*"[^>]*>.*?<\/p>/s, '').replace(/<p class="detail">.*?<\/p>/s, '');
    expect(frame(theirs.text)).toBe(frame(own.text));

    logLines.length = 0;
    const crash = await get('/provider-crash');
    expect(crash.status).toBe(500);
    expect(crash.text).toBe((await get('/crash')).text);
    expect(crash.text).not.toContain('oops');
    expect(logLines.join('')).toContain('secret detail');
  });
});
