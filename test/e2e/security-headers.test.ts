import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientRepository } from '../../src/repositories/clients.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { Browser, type Page } from '../support/browser.ts';
import { pageOf, passwordLogin, relyingParty, startLogin, submitPassword, type RelyingParty } from '../support/rp.ts';

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
function expectAutoSubmit(page: Page, formTargets: string[]): void {
  const script = /<script>([\s\S]*?)<\/script>/.exec(page.html)?.[1];
  expect(script).toBeDefined();
  const policy = policyOf(page);
  expectBase(policy);
  expect(policy.get('script-src')).toEqual([`'sha256-${createHash('sha256').update(script!).digest('base64')}'`]);
  expect(policy.get('form-action')).toEqual(["'self'", ...formTargets]);
}

describe('security headers on every kind of page', () => {
  let t: TestApp;
  let rp: RelyingParty;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { smsOtp: { mandatory: false } } });
    await t.addUser('alice', 'alices-long-password');
    await t.addUser('bob', 'bobs-long-password');
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
