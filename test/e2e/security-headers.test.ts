import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formPostScript } from '../../src/http/static-routes.ts';
import { clientRepository } from '../../src/repositories/clients.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { Browser, type Page } from '../support/browser.ts';
import { formAction, hiddenValue } from '../support/browser.ts';
import { pageOf, passwordLogin, relyingParty, startLogin, submitPassword, toSecondStep, type RelyingParty } from '../support/rp.ts';

const APP = 'http://127.0.0.1:9';
const APP_SIGNED_OUT = 'http://127.0.0.1:8';
const OTHER_APP = 'http://127.0.0.1:7';

function policyOf(page: Page): Map<string, string[]> {
  const header = page.headers.get('content-security-policy');
  if (!header) throw new Error(`no CSP on ${page.url}`);
  return new Map(header.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
}

/** The directives every page has, whatever it holds. */
function expectBase(policy: Map<string, string[]>): void {
  expect(policy.get('default-src')).toEqual(["'none'"]);
  expect(policy.get('base-uri')).toEqual(["'none'"]);
  expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  expect(policy.get('form-action')?.[0]).toBe("'self'");
  // 'none' next to a hash is ignored by browsers, with a warning on the console.
  const scripts = policy.get('script-src')!;
  expect(scripts.length === 1 || !scripts.includes("'none'")).toBe(true);
  for (const values of policy.values()) expect(values.join(' ')).not.toMatch(/\*|unsafe/);
}

/** The provider's auto-submitting page: its one inline script is allowed by hash, and nothing else. */
// The provider's auto-submitting page, as Keystep writes it: Keystep's own script, by its hash.
function expectAutoSubmit(page: Page, formTargets: string[]): void {
  expect(page.html).toContain(`<script src="${formPostScript.path}" integrity="${formPostScript.hash}"`);
  expect(page.html).not.toMatch(/<script>/);
  const policy = policyOf(page);
  expectBase(policy);
  expect(policy.get('script-src')).toEqual([`'${formPostScript.hash}'`]);
  expect(policy.get('form-action')).toEqual(["'self'", ...formTargets]);
}

describe('security headers on every kind of page', () => {
  let t: TestApp;
  let rp: RelyingParty;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { smsOtp: { mandatory: false } } });
    await t.addUser('alice', 'alices-long-password');
    await t.addUser('bob', 'bobs-long-password');
    await t.addUser('carol', 'carols-long-password', '+447400123456');
    rp = await relyingParty(t, await t.addClient('web-app', { redirectUris: [`${APP}/callback`], postLogoutRedirectUris: [`${APP_SIGNED_OUT}/signed-out`] }));
    await t.addClient('other-app', { redirectUris: [`${OTHER_APP}/callback`] });
  });
  afterAll(() => t.close());

  it('a login page: no script, and its forms may lead only to Keystep and its own client', async () => {
    const page = pageOf((await startLogin(rp)).visit);
    const policy = policyOf(page);
    expectBase(policy);
    expect(policy.get('script-src')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'self'", APP]);
    expect(page.html).not.toMatch(/<script/i);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('the code page: Keystep\'s one script by its hash, and a resend form that works without it', async () => {
    const page = pageOf((await toSecondStep(rp, 'carol', 'carols-long-password')).next);
    // Without script: the button is a plain form, enabled, with the wait in words.
    expect(page.html).toMatch(/<form class="secondary" method="post" action="\/interaction\/[\w-]+"><input type="hidden" name="_csrf" value="[^"]+"\/?><input type="hidden" name="step" value="sms-otp"\/?><button class="link" type="submit" name="action" value="resend" data-resend-wait="30" aria-describedby="resend-wait">Send a new code<\/button><\/form>/);
    expect(page.html).toContain('<p class="hint" id="resend-wait">You can ask for a new code in 30 seconds.</p>');
    expect(page.html).not.toMatch(/<button[^>]*disabled/);
    expect(hiddenValue(page.html, 'step')).toBe('sms-otp');
    expect(formAction(page.html)).toMatch(/^\/interaction\//);

    // The script is external, pinned by integrity, and the policy admits it and nothing else.
    const scripts = [...page.html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]![2]).toBe('');
    const integrity = /^ src="\/static\/resend-countdown\.js" integrity="(sha256-[\w+/=]+)" defer$/.exec(scripts[0]![1]!)?.[1];
    const served = await fetch(new URL('/static/resend-countdown.js', t.issuer));
    expect(served.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    const hash = `sha256-${createHash('sha256').update(Buffer.from(await served.arrayBuffer())).digest('base64')}`;
    expect(integrity).toBe(hash);
    const policy = policyOf(page);
    expectBase(policy);
    expect(policy.get('script-src')).toEqual([`'${hash}'`]);
    expect(policy.get('form-action')).toEqual(["'self'", APP]);
  });

  it('a native app with a private-use scheme: that scheme, never more', async () => {
    // Inserted as stored metadata: `keystep client add` makes web clients, which the provider
    // refuses with such a scheme.
    await clientRepository(t.database.db).insert({
      clientId: 'native-app',
      metadata: { application_type: 'native', redirect_uris: ['com.example.app:/callback'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
      consentRequired: false,
      mfa: null,
    });
    const native = await relyingParty(t, { clientId: 'native-app', redirectUri: 'com.example.app:/callback' });
    const page = pageOf((await startLogin(native)).visit);
    expect(policyOf(page).get('form-action')).toEqual(["'self'", 'com.example.app:']);
  });

  it('the form_post page: the provider\'s script by its hash, its form to the client', async () => {
    const attempt = await startLogin(rp, { response_mode: 'form_post' });
    const page = pageOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'alice', 'alices-long-password'));
    expect(page.html).toContain(`action="${APP}/callback"`);
    expectAutoSubmit(page, [APP, APP_SIGNED_OUT]);
  });

  it('signing in as another user: the provider\'s sign-out page, whose redirects end at the client', async () => {
    const { attempt } = await passwordLogin(rp, 'alice', 'alices-long-password');
    const again = await startLogin(rp, { prompt: 'login' }, attempt.browser);
    const page = pageOf(await submitPassword(again.browser, pageOf(again.visit), 'bob', 'bobs-long-password'));
    expect(page.html).toContain('/session/end/confirm');
    expectAutoSubmit(page, [APP, APP_SIGNED_OUT]);
  });

  it('the logout confirmation: its form leads to the client\'s post-logout address', async () => {
    const { attempt, tokens } = await passwordLogin(rp, 'alice', 'alices-long-password');
    const url = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${APP_SIGNED_OUT}/signed-out` });
    const page = pageOf(await attempt.browser.visit(url.toString()));
    expect(page.html).toMatch(/<form id="op.logoutForm" method="post" action="[^"]+\/session\/end\/confirm"><input type="hidden" name="xsrf" value="[\w-]+">/);
    const policy = policyOf(page);
    expectBase(policy);
    expect(policy.get('script-src')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'self'", APP, APP_SIGNED_OUT]);
  });

  it('pages of no client, errors, JSON and the stylesheet: forms to Keystep only', async () => {
    const browser = new Browser(APP);
    for (const path of ['/interaction/unknown', '/session/end', '/healthz', '/.well-known/openid-configuration', '/static/keystep.css']) {
      const page = pageOf(await browser.visit(new URL(path, t.issuer).toString()));
      const policy = policyOf(page);
      expectBase(policy);
      expect(policy.get('form-action'), path).toEqual(["'self'"]);
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });
});
