import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { issueBackupCodes } from '../../src/login/factors/backup-code/codes.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { backupCodeRepository } from '../../src/repositories/backup-codes.ts';
import { cryptoRandom } from '../../src/shared/random.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { AuditedPage, finishAudited } from '../support/audited-page.ts';
import { launchChromium } from '../support/chromium.ts';
import { CallbackServer } from '../support/rp-callback.ts';
import { authorizationRequest, exchange, relyingParty, type AuthorizationRequest, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock, wrongCode } from '../support/sms.ts';

const START = new Date('2030-01-01T09:00:00Z');

// Every login page in Chromium, each audited (axe-core, console, CSP) as it is reached: the SMS
// code with its resend countdown, the keyboard alone, a backup code, phone capture, consent, the
// page for an account without a usable second factor, cancelling.
describe('logins in Chromium, every page audited', () => {
  let t: TestApp;
  let app: CallbackServer;
  let rp: RelyingParty;
  let asksConsent: RelyingParty;
  let chromium: Browser;
  let audited: AuditedPage;
  const sms = new RecordingSender();
  const clock = new TestClock(START.getTime());
  let users = 0;

  beforeAll(async () => {
    [chromium, app, t] = await Promise.all([
      launchChromium(),
      CallbackServer.start(),
      startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { sms: { defaultCountry: 'GB' }, smsOtp: { resendCooldownSeconds: 30, userSendLimit: 100 } } }),
    ]);
    rp = await relyingParty(t, await t.addClient('browser-app', { redirectUris: [app.redirectUri] }));
    asksConsent = await relyingParty(t, await t.addClient('consent-app', { redirectUris: [app.redirectUri], consent: true }));
  });
  afterAll(async () => {
    await chromium?.close();
    await app?.close();
    await t?.close();
  });
  beforeEach(() => {
    // Fresh budgets for every case.
    clock.advance(7200);
  });
  afterEach(() => finishAudited(audited));

  /** A new user (with a number unless `phone` is null), and the audited page that opened the app's request. */
  async function start(options: { phone?: string | null; language?: string; colorScheme?: 'dark'; client?: RelyingParty } = {}) {
    const n = ++users;
    const user = { username: `user${n}`, password: `user${n}-long-password`, phone: options.phone === undefined ? `+4474001000${String(n).padStart(2, '0')}` : options.phone };
    const id = await t.addUser(user.username, user.password, user.phone);
    audited = await AuditedPage.open(chromium, { origin: t.issuer, language: options.language, colorScheme: options.colorScheme });
    const request = await authorizationRequest(options.client ?? rp);
    await audited.goto(request.url.toString());
    return { user, id, request, page: audited.page };
  }

  async function password(user: { username: string; password: string }) {
    await audited.page.fill('#username', user.username);
    await audited.page.fill('#password', user.password);
    await audited.navigate(() => audited.page.getByRole('button', { name: 'Continue' }).click());
  }

  /** The app's authorization response, exchanged for tokens. */
  async function atApp(request: AuthorizationRequest, client = rp) {
    expect(new URL(audited.page.url()).origin).toBe(app.origin);
    return exchange(client, request, await app.next());
  }

  it('the SMS code: a wrong code, the countdown to a resend, the new code', async () => {
    const { user, request, page } = await start();
    await page.clock.install({ time: START });
    await page.clock.pauseAt(START.getTime() + 60_000);
    await password(user);
    const resend = page.getByRole('button', { name: 'Send a new code' });
    expect(await resend.isDisabled()).toBe(true);
    expect(await page.textContent('#resend-wait')).toBe('You can ask for a new code in 30 seconds.');

    await page.fill('#code', wrongCode(sms.lastCode(user.phone!)));
    await audited.navigate(() => page.getByRole('button', { name: 'Continue' }).click());
    expect(await page.textContent('#form-message')).toMatch(/not right/);

    await page.clock.runFor(29_000);
    expect(await page.textContent('#resend-wait')).toMatch(/in 1 second\.$/);
    expect(await resend.isDisabled()).toBe(true);
    await page.clock.runFor(1000);
    expect(await resend.isEnabled()).toBe(true);
    expect(await page.textContent('[role="status"]')).toBe('You can ask for a new code now.');

    clock.advance(30);
    const first = sms.lastCode(user.phone!);
    await audited.navigate(() => resend.click());
    expect(await page.textContent('#form-message')).toMatch(/We sent a new code/);
    expect(await resend.isDisabled()).toBe(true);
    expect(sms.lastCode(user.phone!)).not.toBe(first);

    await page.fill('#code', sms.lastCode(user.phone!));
    await audited.navigate(() => page.getByRole('button', { name: 'Continue' }).click());
    expect((await atApp(request)).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
    // The password page and the code page three times.
    expect(audited.audited).toHaveLength(4);
  });

  /** The focused element (its id, or a button's value), when the focus is visible there (an outline), as the keyboard user sees it. */
  const focused = () => audited.page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return 'nothing';
    const visible = element.matches(':focus-visible') && getComputedStyle(element).outlineStyle !== 'none' && parseFloat(getComputedStyle(element).outlineWidth) >= 2;
    // Buttons have no id: their value names them in every language.
    const name = element.id || `${element.tagName.toLowerCase()}:${element.getAttribute('value')}`;
    return visible ? name : `${name} (focus not visible)`;
  });

  // Nothing here reads a text of the pages, so the same steps run in every language Keystep has.
  for (const language of ['en', 'de', 'fr']) {
    it(`the keyboard alone, in ${language}: typing, Tab and Enter from the app's request to the app`, async () => {
      const { user, request, page } = await start({ language });
      expect(await focused()).toBe('username');
      await page.keyboard.type(user.username);
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('password');
      await page.keyboard.type(user.password);
      await audited.navigate(() => page.keyboard.press('Enter'));

      expect(await focused()).toBe('code');
      await page.keyboard.type(sms.lastCode(user.phone!));
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('button:verify');
      await audited.navigate(() => page.keyboard.press('Enter'));
      expect((await atApp(request)).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
    });
  }

  it('a backup code instead of the SMS code, then the notice of how many are left (dark colours)', async () => {
    const { user, id, request, page } = await start({ colorScheme: 'dark' });
    const [code] = await issueBackupCodes(backupCodeRepository(t.database.db), t.hasher, cryptoRandom, id);
    await password(user);
    await audited.navigate(() => page.getByRole('button', { name: 'Use a backup code instead' }).click());
    await page.fill('#code', 'AAAAA-AAAAA');
    await audited.navigate(() => page.getByRole('button', { name: 'Continue' }).click());
    expect(await page.textContent('#form-message')).toMatch(/not right|not one/);
    await page.fill('#code', code!.toLowerCase());
    await audited.navigate(() => page.getByRole('button', { name: 'Continue' }).click());
    expect(await page.textContent('#form-message')).toMatch(/Backup code accepted/);
    await audited.navigate(() => page.getByRole('button', { name: /^Continue to / }).click());
    expect((await atApp(request)).claims()!.amr).toContain('mfa');
  });

  it('phone capture: a number refused, then one that gets the code and is saved', async () => {
    const { user, request, page } = await start({ phone: null });
    await password(user);
    expect(await focused()).toBe('phone');
    await page.fill('#phone', '+442071838750');
    await audited.navigate(() => page.getByRole('button', { name: 'Send a code' }).click());
    expect(await page.textContent('#form-message')).toMatch(/cannot receive text messages/);
    await page.fill('#phone', '07400 181818');
    await audited.navigate(() => page.getByRole('button', { name: 'Send a code' }).click());
    await page.fill('#code', sms.lastCode('+447400181818'));
    await audited.navigate(() => page.getByRole('button', { name: 'Continue' }).click());
    expect((await atApp(request)).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect((await accountRepository(t.database.db).findByUsername(user.username))!.phone).toBe('+447400181818');
  });

  it('an app that asks for consent: the consent page after the code, then the app', async () => {
    const { user, request, page } = await start({ client: asksConsent });
    await password(user);
    await page.fill('#code', sms.lastCode(user.phone!));
    await audited.navigate(() => page.getByRole('button', { name: 'Continue' }).click());
    expect(await page.textContent('main')).toMatch(/consent-app asks to/);
    await audited.navigate(() => page.getByRole('button', { name: 'Allow' }).click());
    expect((await atApp(request, asksConsent)).claims()!.sub).toBeTruthy();
  });

  it('an app that asks for a phishing-resistant login, from an account with no passkey: the page that says so, then cancel', async () => {
    const n = ++users;
    const user = { username: `user${n}`, password: `user${n}-long-password` };
    await t.addUser(user.username, user.password, '+447400100999');
    audited = await AuditedPage.open(chromium, { origin: t.issuer });
    await audited.goto((await authorizationRequest(rp, { acr_values: 'urn:keystep:acr:phr' })).url.toString());
    await password(user);
    expect(await audited.page.locator('[role="alert"]').count()).toBe(1);
    expect(await audited.page.locator('input[type=text]').count()).toBe(0);
    await audited.navigate(() => audited.page.getByRole('button', { name: 'Cancel and return to the app' }).click());
    expect(new URL((await app.next()).url).searchParams.get('error')).toBe('access_denied');
  });

  it('cancelling on the code page returns to the app with access_denied', async () => {
    const { user, page } = await start();
    await password(user);
    await audited.navigate(() => page.getByRole('button', { name: 'Cancel and return to the app' }).click());
    expect(new URL((await app.next()).url).searchParams.get('error')).toBe('access_denied');
  });
});
