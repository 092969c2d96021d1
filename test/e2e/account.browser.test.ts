import * as oidc from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { AuditedPage, finishAudited } from '../support/audited-page.ts';
import { launchChromium } from '../support/chromium.ts';
import { CallbackServer } from '../support/rp-callback.ts';
import { authorizationRequest, exchange, relyingParty, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock, wrongCode } from '../support/sms.ts';

const appCode = (secret: string, at: Date) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at.getTime() });

// The account page, logout and the error pages in Chromium, every page audited as it is reached
// (axe-core, console, CSP): links and buttons as a user follows them, no URL typed but the first.
describe('the account page, logout and error pages in Chromium, every page audited', () => {
  let t: TestApp;
  let app: CallbackServer;
  let rp: RelyingParty;
  let chromium: Browser;
  let audited: AuditedPage;
  const sms = new RecordingSender();
  const clock = new TestClock();
  let users = 0;

  beforeAll(async () => {
    [chromium, app, t] = await Promise.all([
      launchChromium(),
      CallbackServer.start(),
      startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { smsOtp: { userSendLimit: 100, enableByUserClaim: true } } }),
    ]);
    rp = await relyingParty(t, await t.addClient('browser-app', { redirectUris: [app.redirectUri], postLogoutRedirectUris: [`${app.origin}/signed-out`] }));
  });
  afterAll(async () => {
    await chromium?.close();
    await app?.close();
    await t?.close();
  });
  afterEach(() => finishAudited(audited));

  const click = (name: string | RegExp) => audited.navigate(() => audited.page.getByRole('button', { name }).click());
  const follow = (name: string) => audited.navigate(() => audited.page.getByRole('link', { name }).click());
  const message = () => audited.page.textContent('#form-message');

  /** A new audited page at the app's authorization request, past the password step as `user`; the request. */
  async function passwordAtApp(user: { username: string; password: string }) {
    audited = await AuditedPage.open(chromium, { origin: t.issuer });
    const request = await authorizationRequest(rp);
    await audited.goto(request.url.toString());
    await audited.page.fill('#username', user.username);
    await audited.page.fill('#password', user.password);
    await click('Continue');
    return request;
  }

  /** A new user signed in to the account page with the password and the SMS code. */
  async function toAccount(colorScheme: 'light' | 'dark' = 'light') {
    const n = ++users;
    const user = { username: `user${n}`, password: `user${n}-long-password`, phone: `+4474002000${String(n).padStart(2, '0')}` };
    await t.addUser(user.username, user.password, user.phone);
    audited = await AuditedPage.open(chromium, { origin: t.issuer, colorScheme });
    await audited.goto(`${t.issuer}/account`);
    await audited.page.fill('#username', user.username);
    await audited.page.fill('#password', user.password);
    await click('Continue');
    await audited.page.fill('#code', sms.lastCode(user.phone));
    await click('Continue');
    expect(new URL(audited.page.url()).pathname).toBe('/account');
    return { user, page: audited.page };
  }

  it('changes the number: a number refused, a wrong code, then the new number', async () => {
    const { user, page } = await toAccount();
    await follow('Change the number');
    await page.fill('#phone', 'hello');
    await click('Send a code');
    expect(await message()).toMatch(/not a valid phone number/);
    await page.fill('#phone', '+447400999123');
    await click('Send a code');
    await page.fill('#code', wrongCode(sms.lastCode('+447400999123')));
    await click('Change the number');
    expect(await message()).toMatch(/not right/);
    await page.fill('#code', sms.lastCode('+447400999123'));
    await click('Change the number');
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await message()).toMatch(/number was changed|new number/i);
    expect(sms.to(user.phone).at(-1)!.text).not.toMatch(/#\w+\s*$/);
  });

  it('new backup codes, shown once; then the passkeys pages and back', async () => {
    const { page } = await toAccount();
    expect(await page.textContent('main')).toMatch(/You have 0 unused backup codes/);
    await follow('Get new backup codes');
    await click('Make new backup codes');
    expect(await page.locator('ul.codes li').count()).toBeGreaterThanOrEqual(8);
    await click('I have saved them');
    expect(await message()).toMatch(/backup codes are active/);
    await follow('Add or remove passkeys');
    expect(new URL(page.url()).pathname).toBe('/account/passkeys');
    // The page that runs the passkey script, up to where the browser would ask the authenticator.
    await page.fill('#name', 'Work laptop');
    await click('Add a passkey');
    expect(new URL(page.url()).pathname).toBe('/account/passkeys/add');
    await follow('Cancel');
    await follow('Back to your account');
  });

  it('sets up an authenticator app with a code from it, signs in to an app with it, then removes it (dark colours)', async () => {
    const { user, page } = await toAccount('dark');
    await follow('Set up an authenticator app');
    await click('Set up an authenticator app');
    const secret = (await page.textContent('code.secret'))!.replaceAll(' ', '');
    await page.fill('#code', wrongCode(appCode(secret, clock.now())));
    await click('Confirm');
    expect(await message()).toMatch(/not right/);
    await page.fill('#code', appCode(secret, clock.now()));
    await click('Confirm');
    expect(await message()).toMatch(/authenticator app is set up/);

    // A code counts once: the next one is the app's next step.
    clock.advance(30);
    const request = await authorizationRequest(rp, { prompt: 'login' });
    await audited.goto(request.url.toString());
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await click('Continue');
    await page.fill('#code', appCode(secret, clock.now()));
    await click('Continue');
    expect((await exchange(rp, request, await app.next())).claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);

    await audited.goto(`${t.issuer}/account`);
    await follow('Remove the authenticator app');
    await click('Remove the authenticator app');
    expect(await message()).toMatch(/authenticator app was removed/);
  });

  it('signs out of all sessions: the signed-out page, and the account page asks for a sign-in again', async () => {
    await toAccount();
    await click('Sign out of all sessions');
    expect(new URL(audited.page.url()).pathname).toBe('/account/signed-out');
    await audited.goto(`${t.issuer}/account`);
    expect(await audited.page.locator('#password').count()).toBe(1);
  });

  it('logout from an app: the confirmation, "stay signed in", then signed out on Keystep\'s own page', async () => {
    const user = { username: 'logout-user', password: 'logout-user-long-password', phone: '+447400300300' };
    await t.addUser(user.username, user.password, user.phone);
    const request = await passwordAtApp(user);
    await audited.page.fill('#code', sms.lastCode(user.phone));
    await click('Continue');
    const tokens = await exchange(rp, request, await app.next());
    const logout = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token! }).toString();

    await audited.goto(logout);
    await click('No, stay signed in');
    await audited.goto(logout);
    await click('Yes, sign me out');
    expect(await audited.page.textContent('main')).toMatch(/You are signed out/);
  });

  it('a session signed in with the password alone continues to the account page with the code alone', async () => {
    const user = { username: 'exempt-user', password: 'exempt-user-long-password', phone: '+447400300301' };
    await accountRepository(t.database.db).setSmsOtpExempt(await t.addUser(user.username, user.password, user.phone), true);
    const request = await passwordAtApp(user);
    expect((await exchange(rp, request, await app.next())).claims()!.amr).toEqual(['pwd']);

    await audited.goto(`${t.issuer}/account`);
    expect(await audited.page.textContent('main')).toMatch(/You are signed in as\s*exempt-user/);
    await click('Continue');
    await audited.page.fill('#code', sms.lastCode(user.phone));
    await click('Continue');
    expect(new URL(audited.page.url()).pathname).toBe('/account');
  });

  it('error pages: an unknown page, an unknown sign-in, a wrong method, a refused request, a form with a wrong token', async () => {
    audited = await AuditedPage.open(chromium, { origin: t.issuer });
    await audited.goto(`${t.issuer}/no-such-page`, { status: 404 });
    await audited.goto(`${t.issuer}/interaction/unknown`, { status: 400 });
    expect(await audited.page.textContent('h1')).toBe('This sign-in has ended');
    await audited.goto(`${t.issuer}/account/sign-out-everywhere`, { status: 405 });
    await audited.goto(`${t.issuer}/auth?client_id=nobody&response_type=code&scope=openid`, { status: 400 });
    expect(await audited.page.textContent('h1')).toBe('Sign-in request not accepted');

    await audited.goto((await authorizationRequest(rp)).url.toString());
    await audited.page.locator('input[name="_csrf"]').first().evaluate((input: HTMLInputElement) => { input.value = 'forged'; });
    await audited.page.fill('#username', 'someone');
    await audited.page.fill('#password', 'a-long-password');
    await audited.navigate(() => audited.page.getByRole('button', { name: 'Continue' }).click(), { status: 403 });
    expect(await audited.page.textContent('[role="alert"]')).toBeTruthy();
  });
});
