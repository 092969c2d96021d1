import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { launchChromium } from '../support/chromium.ts';
import { runCli } from '../support/cli.ts';
import { CallbackServer } from '../support/rp-callback.ts';
import { authorizationRequest, exchange, relyingParty, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender } from '../support/sms.ts';

const KAI = { username: 'kai', password: 'kais-long-password', phone: '+447400777888' };
const LEE = { username: 'lee', password: 'lees-long-password', phone: '+447400777999' };
const PHR = 'urn:keystep:acr:phr';

// Real Chromium with the DevTools protocol's virtual authenticator: the page's script, the CSP that
// allows it by hash, and the library's checks of real signatures, from registration to an ID token.
// The issuer is http://localhost (WebAuthn takes no IP address as relying party id).
describe('passkeys in Chromium', () => {
  let t: TestApp;
  let app: CallbackServer;
  let rp: RelyingParty;
  let chromium: Browser;
  let page: Page;
  let cdp: CDPSession;
  const sms = new RecordingSender();
  const problems: string[] = [];

  beforeAll(async () => {
    [chromium, app, t] = await Promise.all([launchChromium(), CallbackServer.start(), startTestApp({ host: 'localhost', smsSender: sms, random: distinctCodes() })]);
    await t.addUser(KAI.username, KAI.password, KAI.phone);
    await t.addUser(LEE.username, LEE.password, LEE.phone);
    rp = await relyingParty(t, await t.addClient('browser-app', { redirectUris: [app.redirectUri] }));
    page = await (await chromium.newContext()).newPage();
    // A step that goes wrong fails the test where it stopped, well before the test's own timeout.
    page.setDefaultTimeout(8000);
    page.on('console', (m) => {
      if (new URL(m.location().url || 'about:blank').pathname === '/favicon.ico') return;
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
    cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
  });
  afterAll(async () => {
    await chromium?.close();
    await app?.close();
    await t?.close();
  });
  afterEach(() => {
    expect(problems).toEqual([]);
  });

  /** A platform authenticator with user verification that answers by itself; `synced` backs its keys up. */
  async function authenticator(synced = false): Promise<string> {
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
        ...(synced ? { defaultBackupEligibility: true, defaultBackupState: true } : {}),
      },
    });
    return authenticatorId;
  }

  async function password(user = KAI) {
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  async function addPasskey(name: string) {
    await page.goto(`${t.issuer}/account/passkeys`);
    if (await page.locator('#username').count()) {
      await password();
      const bySms = page.getByRole('button', { name: 'Get a code by text message instead' });
      await page.locator('#code').or(bySms).first().waitFor();
      if (await bySms.count()) await bySms.click();
      await page.waitForSelector('#code');
      await page.fill('#code', sms.lastCode(KAI.phone));
      await page.getByRole('button', { name: 'Continue' }).click();
    }
    await page.waitForURL(`${t.issuer}/account/passkeys`);
    await page.fill('#name', name);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${t.issuer}/account/passkeys/add`);
    const csp = (await page.context().request.get(`${t.issuer}/account/passkeys/add`)).headers()['content-security-policy'];
    expect(csp).toMatch(/script-src 'sha256-[^']+'/);
    await page.getByRole('button', { name: 'Create the passkey' }).click();
    await page.waitForURL((url) => url.pathname === '/account').catch(async (e) => { throw new Error(`${page.url()} ${problems.join('|')} ${await page.textContent('main')}`); });
  }

  async function signInToApp() {
    // A new browser session: no earlier sign-in to continue.
    await page.context().clearCookies();
    const request = await authorizationRequest(rp);
    await page.goto(request.url.toString());
    await password();
    // The factor used last comes first (the SMS code, when the account page was signed in to with
    // it since); the passkey page offers the other factors beside it.
    const instead = page.getByRole('button', { name: 'Use a passkey instead' });
    await instead.or(page.getByRole('button', { name: 'Use your passkey' })).first().waitFor();
    if (await instead.count()) await instead.click();
    await page.getByRole('button', { name: 'Use your passkey' }).waitFor();
    expect(await page.getByRole('button', { name: 'Get a code by text message instead' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    // The script asks the authenticator at once and posts its answer.
    await page.waitForURL((url) => url.origin === app.origin, { timeout: 10_000 });
    return (await exchange(rp, request, await app.next())).claims()!;
  }

  it('a passkey added on the account page signs in to an app after the password: amr pwd, hwk, mfa', async () => {
    const id = await authenticator();
    await addPasskey('Work laptop');
    expect(await page.textContent('#form-message')).toMatch(/passkey was added/);
    expect(await page.textContent('main')).toMatch(/Work laptop: added [\d-]+ [\d:]+ UTC; not used to sign in yet/);
    const rows = await t.database.db.selectFrom('passkey_credentials').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'Work laptop', backed_up: false, device_type: 'singleDevice' });

    const claims = await signInToApp();
    expect(claims.amr).toEqual(['pwd', 'hwk', 'mfa']);
    const used = await t.database.db.selectFrom('passkey_credentials').select(['last_used_at', 'counter']).executeTakeFirstOrThrow();
    expect(used.last_used_at).not.toBeNull();

    // With the SMS gateway down, the passkey still signs in (and no code went out).
    const sent = sms.to(KAI.phone).length;
    sms.failing = true;
    try {
      expect((await signInToApp()).amr).toEqual(['pwd', 'hwk', 'mfa']);
    } finally {
      sms.failing = false;
    }
    expect(sms.to(KAI.phone)).toHaveLength(sent);
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: id });
  });

  it('a synced (backed-up) passkey proves swk; a passkey is removed from the account page', async () => {
    const id = await authenticator(true);
    await page.context().clearCookies();
    // The first passkey is not on this authenticator: the SMS code, offered beside it, signs in to the account page.
    await addPasskey('Phone');
    const synced = await t.database.db.selectFrom('passkey_credentials').selectAll().where('name', '=', 'Phone').executeTakeFirstOrThrow();
    expect(synced).toMatchObject({ backed_up: true, device_type: 'multiDevice' });
    expect((await signInToApp()).amr).toEqual(['pwd', 'swk', 'mfa']);

    await page.goto(`${t.issuer}/account/passkeys`);
    await page.getByRole('button', { name: 'Remove the passkey Phone' }).click();
    await page.waitForSelector('#form-message');
    expect(await page.textContent('#form-message')).toMatch(/passkey was removed/);
    expect(await t.database.db.selectFrom('passkey_credentials').select('name').execute()).toEqual([{ name: 'Work laptop' }]);
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: id });
  });

  /** The passkey page of a login that asks for phishing resistance: no other factor is offered. */
  async function passkeyOnly(request: Awaited<ReturnType<typeof authorizationRequest>>, relying = rp) {
    await page.getByRole('button', { name: 'Use your passkey' }).waitFor();
    expect(await page.getByRole('button', { name: 'Get a code by text message instead' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    await page.waitForURL((url) => url.origin === app.origin, { timeout: 10_000 });
    return (await exchange(relying, request, await app.next())).claims()!;
  }

  it('phishing resistance, asked by acr_values or by a client\'s --mfa phishing-resistant, is a passkey only and acr phr; a password and SMS session steps up to it', async () => {
    const id = await authenticator();
    await page.context().clearCookies();
    // Signs in to the account page with the password and an SMS code: a session at the MFA level.
    await addPasskey('Security key');

    const stepUp = await authorizationRequest(rp, { acr_values: PHR });
    await page.goto(stepUp.url.toString());
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.locator('#password').count()).toBe(0);
    const stepped = await passkeyOnly(stepUp);
    expect(stepped).toMatchObject({ acr: PHR, amr: ['pwd', 'sms', 'hwk', 'mfa'] });

    const client = await t.addClient('strict-app', { redirectUris: [app.redirectUri] });
    expect(await runCli(['client', 'update', 'strict-app', '--mfa', 'phishing-resistant'], { DATABASE_URL: t.database.url })).toMatchObject({ code: 0 });
    const strict = await relyingParty(t, client);
    await page.context().clearCookies();
    const fresh = await authorizationRequest(strict);
    await page.goto(fresh.url.toString());
    await password();
    expect(await passkeyOnly(fresh, strict)).toMatchObject({ acr: PHR, amr: ['pwd', 'hwk', 'mfa'] });

    // Without a passkey there is nothing to offer: the page says what to do, and no SMS is sent.
    await page.context().clearCookies();
    const sent = sms.to(LEE.phone).length;
    await page.goto((await authorizationRequest(strict)).url.toString());
    await password(LEE);
    await page.waitForSelector('#form-message');
    expect(await page.textContent('#form-message')).toMatch(/asks for a passkey.*add a passkey there/);
    expect(await page.locator('#code').count()).toBe(0);
    expect(sms.to(LEE.phone)).toHaveLength(sent);
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: id });
  });
});
