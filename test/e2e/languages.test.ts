import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/shared/log.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser, formAction, hiddenValue, type Page, type RequestInit } from '../support/browser.ts';
import { callbackOf, pageOf, relyingParty, startLogin, submitPassword, submitStep, type RelyingParty } from '../support/rp.ts';
import { wrongCode } from '../support/sms.ts';
import { allTexts, htmlLang, untranslated, visibleText } from '../support/texts.ts';

/** A browser whose every request says which languages its user reads. */
class SpeakingBrowser extends Browser {
  languages: string;

  constructor(stopAt: string, languages: string) {
    super(stopAt);
    this.languages = languages;
  }

  override request(url: string, init: RequestInit = {}): Promise<Response> {
    return super.request(url, { ...init, headers: { 'accept-language': this.languages, ...init.headers } });
  }
}

const PHONE = '+447400515151';
const LANGUAGES = ['en', 'de', 'fr'] as const;
// What the browser sends for each: a region and a second choice, as browsers do.
const ACCEPT: Record<string, string> = { en: 'en-GB,en;q=0.9', de: 'de-CH,de;q=0.9,en;q=0.5', fr: 'fr-FR,fr;q=0.9,en;q=0.5' };

/** The page is in `language` through and through. */
function expectIn(page: Page, language: string) {
  expect(htmlLang(page.html), page.url).toBe(language);
  expect(untranslated(page.html, language), page.url).toEqual([]);
}

describe('the pages in each language', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let partner: RelyingParty;

  beforeAll(async () => {
    // The console sender: the development inbox shows each SMS as it was sent.
    // Wrong codes on purpose in every language: the account's lock after wrong codes and its SMS budget stay out of the way.
    t = await startTestApp({ overrides: { smsOtp: { maxAttempts: 5, resendCooldownSeconds: 0, lockoutThreshold: 100, userSendLimit: 1000 } } });
    await t.addUser('ines', 'ines-long-password', PHONE);
    await t.addUser('noah', 'noahs-long-password');
    rp = await relyingParty(t, await t.addClient('web-app'));
    partner = await relyingParty(t, await t.addClient('partner', { consent: true }));
  });
  afterAll(() => t.close());

  /** The newest SMS to a number, as the development inbox shows it. */
  async function lastSms(number: string): Promise<string> {
    const inbox = visibleText(await (await fetch(`${t.issuer}/dev/sms`)).text());
    const at = inbox.indexOf(`to ${number}`);
    if (at < 0) throw new Error(`no SMS to ${number}`);
    return inbox.slice(at + `to ${number}`.length).split(/ \d{4}-\d\d-\d\dT/)[0]!.trim();
  }
  const codeIn = (text: string) => /#(\w+)$/.exec(text)![1]!;

  for (const language of LANGUAGES) {
    it(`signs in, with the SMS and every page of the login in ${language} (Accept-Language), counting tries as ${language} does`, async () => {
      const browser = new SpeakingBrowser(rp.redirectUri, ACCEPT[language]!);
      const attempt = await startLogin(rp, {}, browser);
      const login = pageOf(attempt.visit);
      expectIn(login, language);
      expect(login.headers.get('content-language')).toBe(language);

      const wrong = pageOf(await submitPassword(browser, login, 'ines', 'not-her-password'));
      expectIn(wrong, language);
      expect(alertText(wrong.html)).toBe(allTexts.text('CREDENTIALS_INCORRECT', {}, language));

      const codePage = pageOf(await submitPassword(browser, wrong, 'ines', 'ines-long-password'));
      expectIn(codePage, language);
      const sms = await lastSms(PHONE);
      expect(sms).toBe(allTexts.page('SMS_CODE', { service: 'Keystep', code: codeIn(sms), minutes: 5, host: new URL(t.issuer).host }, language).replace(/\s+/g, ' '));

      // 5 tries per code: one wrong leaves 4, four wrong leave 1.
      const code = codeIn(sms);
      let page = pageOf(await submitStep(browser, codePage, 'sms-otp', { code: wrongCode(code) }));
      expectIn(page, language);
      expect(alertText(page.html)).toBe(allTexts.text('CODE_INCORRECT', { attempts: 4 }, language));
      for (let i = 0; i < 3; i++) page = pageOf(await submitStep(browser, page, 'sms-otp', { code: wrongCode(code) }));
      expect(alertText(page.html)).toBe(allTexts.text('CODE_INCORRECT', { attempts: 1 }, language));
      expect(allTexts.text('CODE_INCORRECT', { attempts: 1 }, language)).not.toBe(allTexts.text('CODE_INCORRECT', { attempts: 4 }, language).replace('4', '1'));

      const backup = pageOf(await submitStep(browser, page, 'sms-otp', { action: 'backup' }));
      expectIn(backup, language);
      const back = pageOf(await submitStep(browser, backup, 'backup-code', { action: 'sms' }));
      const resent = pageOf(await submitStep(browser, back, 'sms-otp', { action: 'resend' }));
      expectIn(resent, language);
      callbackOf(await submitStep(browser, resent, 'sms-otp', { code: codeIn(await lastSms(PHONE)) }));
    });

    it(`shows the consent, phone capture and error pages in ${language}`, async () => {
      const browser = new SpeakingBrowser(partner.redirectUri, ACCEPT[language]!);
      const signIn = await startLogin(partner, {}, browser);
      const codePage = pageOf(await submitPassword(browser, pageOf(signIn.visit), 'ines', 'ines-long-password'));
      const consent = pageOf(await submitStep(browser, codePage, 'sms-otp', { code: codeIn(await lastSms(PHONE)) }));
      expect(consent.html).toContain('/consent"');
      expectIn(consent, language);

      const attempt = await startLogin(partner, {}, new SpeakingBrowser(partner.redirectUri, ACCEPT[language]!));
      const capture = pageOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'noah', 'noahs-long-password'));
      expectIn(capture, language);
      expect(capture.html).toContain('name="phone"');
      const invalid = pageOf(await submitStep(attempt.browser, capture, 'phone-capture', { action: 'number', phone: '12' }));
      expectIn(invalid, language);

      const notFound = pageOf(await browser.visit(`${t.issuer}/no-such-page`));
      expect(notFound.status).toBe(404);
      expectIn(notFound, language);
      expect(visibleText(notFound.html)).toContain(allTexts.text('NOT_FOUND', {}, language));
    });

    it(`shows the account pages and the sign-out in ${language}`, async () => {
      const browser = new SpeakingBrowser('never:', ACCEPT[language]!);
      const login = pageOf(await browser.visit(`${t.issuer}/account`));
      expectIn(login, language);
      const codePage = pageOf(await submitPassword(browser, login, 'ines', 'ines-long-password'));
      const account = pageOf(await submitStep(browser, codePage, 'sms-otp', { code: codeIn(await lastSms(PHONE)) }));
      expect(account.url).toBe(`${t.issuer}/account`);
      expectIn(account, language);
      for (const sub of ['/account/phone', '/account/totp/new', '/account/passkeys', '/account/backup-codes/new']) expectIn(pageOf(await browser.visit(`${t.issuer}${sub}`)), language);
      // The notice to the old number goes out in the language of the page that changed it.
      const change = pageOf(await browser.visit(`${t.issuer}/account/phone`));
      const verify = pageOf(await browser.submit(new URL(formAction(change.html), t.issuer).toString(), { _csrf: hiddenValue(change.html, '_csrf'), phone: '+447400616161' }));
      expectIn(verify, language);
      expect(await lastSms('+447400616161')).toMatch(/#\d{6}$/);
      const changed = pageOf(await browser.submit(new URL(formAction(verify.html), t.issuer).toString(), { _csrf: hiddenValue(verify.html, '_csrf'), code: codeIn(await lastSms('+447400616161')) }));
      expectIn(changed, language);
      expect(await lastSms(PHONE)).toBe(allTexts.page('NOTICE_PHONE_CHANGED', { service: 'Keystep', number: '+44 •••• ••61 61' }, language));
      await t.database.db.updateTable('accounts').set({ phone: PHONE }).where('username', '=', 'ines').execute();

      const logout = pageOf(await browser.visit(`${t.issuer}/session/end`));
      expectIn(logout, language);
      const done = pageOf(await browser.submit(new URL(formAction(logout.html), t.issuer).toString(), { xsrf: hiddenValue(logout.html, 'xsrf'), logout: 'yes' }));
      expectIn(done, language);
    });
  }

  it('hands the sign-in back to an app that asked for form_post on a page in the browser\'s language', async () => {
    for (const language of LANGUAGES) {
      const browser = new SpeakingBrowser(rp.redirectUri, ACCEPT[language]!);
      const attempt = await startLogin(rp, { response_mode: 'form_post' }, browser);
      const codePage = pageOf(await submitPassword(browser, pageOf(attempt.visit), 'ines', 'ines-long-password'));
      const handBack = pageOf(await submitStep(browser, codePage, 'sms-otp', { code: codeIn(await lastSms(PHONE)) }));
      expectIn(handBack, language);
      expect(formAction(handBack.html)).toBe(rp.redirectUri);
      expect(hiddenValue(handBack.html, 'state')).toBe(attempt.state);
      expect(hiddenValue(handBack.html, 'code')).toMatch(/^[\w-]{20,}$/);
    }
  });

  it('puts the app\'s ui_locales before Accept-Language, for the pages and the SMS', async () => {
    const browser = new SpeakingBrowser(rp.redirectUri, ACCEPT.de!);
    const attempt = await startLogin(rp, { ui_locales: 'es fr-CA de' }, browser);
    const login = pageOf(attempt.visit);
    expectIn(login, 'fr');
    const codePage = pageOf(await submitPassword(browser, login, 'ines', 'ines-long-password'));
    expectIn(codePage, 'fr');
    expect(await lastSms(PHONE)).toMatch(/^Votre code Keystep est \d{6}\. Il expire dans 5 minutes\./);
  });

  it('a language stored with a login that Keystep does not have (a poisoned or older row) is never used: the pages and the SMS are in the app\'s ui_locales', async () => {
    for (const stored of ['xx', '__proto__', 'de\u0000', 'toString', 'de-', '<b>']) {
      const browser = new SpeakingBrowser(rp.redirectUri, ACCEPT.de!);
      const login = pageOf((await startLogin(rp, { ui_locales: 'fr' }, browser)).visit);
      const uid = new URL(login.url).pathname.split('/')[2]!;
      // A wrong password makes the login's row, with its language.
      pageOf(await submitPassword(browser, login, 'ines', 'not-her-password'));
      const row = await t.database.db.selectFrom('login_flows').select('data').where('uid', '=', uid).executeTakeFirstOrThrow();
      expect((row.data as { language?: string }).language).toBe('fr');
      await t.database.db.updateTable('login_flows').set({ data: JSON.stringify({ ...(row.data as object), language: stored.replace('\u0000', '\\u0000') }) }).where('uid', '=', uid).execute();
      const again = pageOf(await browser.visit(login.url));
      expectIn(again, 'fr');
      const codePage = pageOf(await submitPassword(browser, again, 'ines', 'ines-long-password'));
      expectIn(codePage, 'fr');
      expect(await lastSms(PHONE)).toMatch(/^Votre code Keystep est \d{6}\./);
    }
  });

  it('answers a form of a login that cannot be taken (a wrong anti-forgery token) in the login\'s language', async () => {
    const browser = new SpeakingBrowser(rp.redirectUri, ACCEPT.de!);
    const login = pageOf((await startLogin(rp, { ui_locales: 'fr' }, browser)).visit);
    expectIn(login, 'fr');
    const refused = pageOf(await browser.submit(new URL(formAction(login.html), login.url).toString(), { _csrf: 'forged', step: 'password', username: 'ines', password: 'x' }));
    expect(refused.status).toBe(403);
    expectIn(refused, 'fr');
    expect(visibleText(refused.html)).toContain(allTexts.text('CSRF_INVALID', {}, 'fr'));
  });

  it('keeps the language its first form was sent in for the rest of the login, its SMS included', async () => {
    const browser = new SpeakingBrowser(rp.redirectUri, ACCEPT.de!);
    const login = pageOf((await startLogin(rp, {}, browser)).visit);
    const wrong = pageOf(await submitPassword(browser, login, 'ines', 'not-her-password'));
    // The browser's languages change mid-login; the login's do not.
    browser.languages = ACCEPT.fr!;
    const codePage = pageOf(await submitPassword(browser, wrong, 'ines', 'ines-long-password'));
    expectIn(codePage, 'de');
    expect(await lastSms(PHONE)).toMatch(/^Ihr Keystep-Code lautet \d{6}\./);
    expectIn(pageOf(await submitStep(browser, codePage, 'sms-otp', { code: wrongCode(codeIn(await lastSms(PHONE))) })), 'de');
    // A page that is not the login's follows the browser.
    expectIn(pageOf(await browser.visit(`${t.issuer}/no-such-page`)), 'fr');
  });

  it('takes languages of any shape without failing: thousands of tags, malformed ones, NUL and lone surrogates', async () => {
    const shapes: [Record<string, string>, string, string][] = [
      [{}, Array.from({ length: 2000 }, (_, i) => `x${i}`).join(',') + ',fr', 'en'],
      [{}, 'not a tag!, %%%;q=0.9, de-CH-1901-x-a;q=0.8', 'de'],
      [{ ui_locales: `de\u0000 \ud800 ${'a'.repeat(5000)} fr` }, 'en', 'en'],
      [{ ui_locales: '* x-private i-klingon art-lojban de-u-co-phonebk' }, 'fr', 'de'],
      [{ ui_locales: Array.from({ length: 500 }, () => 'zz').join(' ') }, 'fr', 'fr'],
    ];
    for (const [params, header, language] of shapes) {
      const page = pageOf((await startLogin(rp, params, new SpeakingBrowser(rp.redirectUri, header))).visit);
      expect(page.status, JSON.stringify(params)).toBe(200);
      expect(htmlLang(page.html), header.slice(0, 40)).toBe(language);
    }
  });

  it('falls back to the default for a language it does not have, and lists its languages in discovery', async () => {
    const page = pageOf(await new SpeakingBrowser(rp.redirectUri, 'ja, *;q=0.1').visit(`${t.issuer}/no-such-page`));
    expectIn(page, 'en');
    const discovery = await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json() as { ui_locales_supported?: string[] };
    expect(discovery.ui_locales_supported).toEqual(['en', 'de', 'fr']);
  });
});

describe('an operator\'s own translations', () => {
  let t: TestApp;
  let rp: RelyingParty;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keystep-texts-'));
    writeFileSync(path.join(dir, 'de.json'), JSON.stringify({
      'title.sign-in': 'Einloggen',
      // Markup in a text is text: written escaped, never run.
      'password.lead': 'Weiter zu <b>{client}</b>.<script>alert(1)</script>',
      'page.cancel': '"><img src=x onerror=alert(2)>Abbrechen',
    }));
    writeFileSync(path.join(dir, 'nl.json'), JSON.stringify({ 'title.sign-in': 'Inloggen', 'password.username': 'Gebruikersnaam', SMS_CODE: 'Uw {service}-code is {code}, {minutes} minuten geldig.\n\n@{host} #{code}' }));
    writeFileSync(path.join(dir, 'de-AT.json'), JSON.stringify({ 'password.username': 'Benutzerkennung' }));
    t = await startTestApp({ overrides: { translations: { dir, defaultLanguage: 'nl' } } });
    await t.addUser('ines', 'ines-long-password', PHONE);
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  it('override a shipped text, and add a language whose missing texts read in the language it narrows, else in English', async () => {
    const german = pageOf((await startLogin(rp, {}, new SpeakingBrowser(rp.redirectUri, 'de'))).visit);
    expect(htmlLang(german.html)).toBe('de');
    expect(german.html).toContain('<h1>Einloggen</h1>');
    expect(german.html).toContain('Benutzername');
    expect(german.html).toContain('Weiter zu &lt;b&gt;web-app&lt;/b&gt;.&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(german.html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;Abbrechen');
    expect(german.html).not.toMatch(/<script>|<b>|<img/);
    // A region's own file: its texts, then its language's (the operator's German too), not English.
    const austrian = pageOf((await startLogin(rp, {}, new SpeakingBrowser(rp.redirectUri, 'de-AT'))).visit);
    expect(htmlLang(austrian.html)).toBe('de-AT');
    expect(austrian.html).toContain('Benutzerkennung');
    expect(austrian.html).toContain('<h1>Einloggen</h1>');
    expect(untranslated(austrian.html, 'de')).toEqual([]);

    // Dutch is the default here: a browser asking for a language Keystep does not have gets it.
    const browser = new SpeakingBrowser(rp.redirectUri, 'ja');
    const attempt = await startLogin(rp, {}, browser);
    const dutch = pageOf(attempt.visit);
    expect(htmlLang(dutch.html)).toBe('nl');
    expect(dutch.html).toContain('<h1>Inloggen</h1>');
    expect(dutch.html).toContain('Gebruikersnaam');
    expect(dutch.html).toContain(allTexts.page('password.password', {}, 'en'));
    await submitPassword(browser, dutch, 'ines', 'ines-long-password');
    const inbox = visibleText(await (await fetch(`${t.issuer}/dev/sms`)).text());
    expect(inbox).toMatch(/Uw Keystep-code is \d{6}, 5 minuten geldig\. @127\.0\.0\.1:\d+ #\d{6}/);

    const discovery = await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json() as { ui_locales_supported?: string[] };
    expect(discovery.ui_locales_supported).toEqual(['en', 'de', 'fr', 'de-AT', 'nl']);
  });

  it('a file with a problem stops the start with every problem listed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keystep-texts-'));
    writeFileSync(path.join(dir, 'fr.json'), JSON.stringify({ 'title.sign-in': 'Connexion {qui}', TYPO_KEY: 'x' }));
    const config = loadConfig({}, { ...t.config, translations: { dir, defaultLanguage: 'en' } });
    await expect(createApp({ config, db: t.database.db, log: createLogger('silent') })).rejects.toThrow(/title\.sign-in takes \{qui\}[\s\S]*TYPO_KEY is not a text Keystep has/);
  });

  it('an operator\'s SMS text keeps winning over every language\'s', async () => {
    const own = await startTestApp({ database: t.database, overrides: { smsOtp: { message: 'Code {code} for {service}.\n\n@{host} #{code}' } } });
    try {
      const orp = await relyingParty(own, { clientId: 'web-app', clientSecret: 'web-app-secret-0123456789abcdef', redirectUri: rp.redirectUri });
      const browser = new SpeakingBrowser(orp.redirectUri, 'fr');
      await submitPassword(browser, pageOf((await startLogin(orp, {}, browser)).visit), 'ines', 'ines-long-password');
      const inbox = visibleText(await (await fetch(`${own.issuer}/dev/sms`)).text());
      expect(inbox).toMatch(/Code \d{6} for Keystep\./);
    } finally {
      await own.close();
    }
  });
});
