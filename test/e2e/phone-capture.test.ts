import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueBackupCodes } from '../../src/login/factors/backup-code/codes.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { backupCodeRepository } from '../../src/repositories/backup-codes.ts';
import { cryptoRandom } from '../../src/shared/random.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock, wrongCode } from '../support/sms.ts';

describe('capturing a phone number at login', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { sms: { defaultCountry: 'GB', allowedCountries: ['GB', '+1'] }, smsOtp: { phoneUnique: true, userSendLimit: 100 } } });
    for (const name of ['amy', 'ben', 'cat', 'dan']) await t.addUser(name, `${name}s-long-password`);
    await t.addUser('eve', 'eves-long-password', '+447400171717');
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  const phoneOf = async (username: string) => {
    const account = (await accountRepository(t.database.db).findByUsername(username))!;
    return { phone: account.phone, verified: account.phoneVerifiedAt !== null };
  };

  it('asks for a number, saves it only after the code, and uses it next time', async () => {
    const { attempt, next } = await toSecondStep(rp, 'amy', 'amys-long-password');
    const form = pageOf(next);
    expect(form.html).toContain('autocomplete="tel"');
    expect(form.html).toContain('type="tel"');
    expect(form.html).toContain('without it');
    // A national number, read with the configured country.
    const codePage = pageOf(await submitStep(attempt.browser, form, 'phone-capture', { action: 'number', phone: '07400 181818' }));
    expect(codePage.html).toContain('+44 •••• ••18 18');
    expect(sms.sent.at(-1)!.to).toBe('+447400181818');
    expect(await phoneOf('amy')).toEqual({ phone: null, verified: false });
    const wrong = pageOf(await submitStep(attempt.browser, codePage, 'phone-capture', { code: wrongCode(sms.lastCode('+447400181818')) }));
    expect(alertText(wrong.html)).toMatch(/not right/);
    expect(await phoneOf('amy')).toEqual({ phone: null, verified: false });
    const done = await submitStep(attempt.browser, wrong, 'phone-capture', { code: sms.lastCode('+447400181818') });
    expect((await exchange(rp, attempt, callbackOf(done))).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(await phoneOf('amy')).toEqual({ phone: '+447400181818', verified: true });

    // Next login: straight to the code page for the saved number; no way to replace it here.
    const again = await toSecondStep(rp, 'amy', 'amys-long-password');
    expect(pageOf(again.next).html).not.toContain('autocomplete="tel"');
    expect(pageOf(again.next).html).toContain('+44 •••• ••18 18');
    const posted = pageOf(await submitStep(again.attempt.browser, pageOf(again.next), 'phone-capture', { action: 'number', phone: '+447400999000' }));
    expect(posted.html).toContain('autocomplete="one-time-code"');
    expect(await phoneOf('amy')).toEqual({ phone: '+447400181818', verified: true });
  });

  it('never saves a number when the step is passed with a backup code', async () => {
    const id = (await accountRepository(t.database.db).findByUsername('ben'))!.id;
    const [code] = await issueBackupCodes(backupCodeRepository(t.database.db), t.hasher, cryptoRandom, id);
    const { attempt, next } = await toSecondStep(rp, 'ben', 'bens-long-password');
    const codePage = pageOf(await submitStep(attempt.browser, pageOf(next), 'phone-capture', { action: 'number', phone: '+447400191919' }));
    const backup = pageOf(await submitStep(attempt.browser, codePage, 'phone-capture', { action: 'backup' }));
    const notice = pageOf(await submitStep(attempt.browser, backup, 'backup-code', { code: code! }));
    expect(alertText(notice.html)).toMatch(/Backup code accepted/);
    expect(await phoneOf('ben')).toEqual({ phone: null, verified: false });
  });

  it('explains invalid, landline and disallowed numbers', async () => {
    const { attempt, next } = await toSecondStep(rp, 'cat', 'cats-long-password');
    let page = pageOf(next);
    const cases: [string, RegExp][] = [
      ['', /Enter your mobile number/],
      ['hello', /not a valid phone number/],
      ['+442071838750', /cannot receive text messages/],
      ['+33612345678', /numbers in that country/],
    ];
    const before = sms.sent.length;
    for (const [phone, message] of cases) {
      page = pageOf(await submitStep(attempt.browser, page, 'phone-capture', { action: 'number', phone }));
      expect(alertText(page.html)).toMatch(message);
      expect(page.html).toContain('autocomplete="tel"');
    }
    expect(sms.sent.length).toBe(before);
  });

  it('refuses a number verified on another account without saying whose', async () => {
    const { attempt, next } = await toSecondStep(rp, 'dan', 'dans-long-password');
    const before = sms.sent.length;
    const page = pageOf(await submitStep(attempt.browser, pageOf(next), 'phone-capture', { action: 'number', phone: '+447400171717' }));
    expect(alertText(page.html)).toBe('That number cannot be used. Enter another number.');
    expect(sms.sent.length).toBe(before);
  });

  it('accepts in the SMS step only a code sent to the account\'s own number', async () => {
    clock.advance(3600);
    // Login B captures a number and gets a code; meanwhile login A verifies another number.
    const b = await toSecondStep(rp, 'cat', 'cats-long-password');
    await submitStep(b.attempt.browser, pageOf(b.next), 'phone-capture', { action: 'number', phone: '+447400252525' });
    const codeForX = sms.lastCode('+447400252525');
    const a = await toSecondStep(rp, 'cat', 'cats-long-password');
    const aCode = pageOf(await submitStep(a.attempt.browser, pageOf(a.next), 'phone-capture', { action: 'number', phone: '+447400262626' }));
    await exchange(rp, a.attempt, callbackOf(await submitStep(a.attempt.browser, aCode, 'phone-capture', { code: sms.lastCode('+447400262626') })));
    expect(await phoneOf('cat')).toEqual({ phone: '+447400262626', verified: true });
    // Login B is now on the SMS step for the verified number; the code that went to X is no use.
    const reload = pageOf(await b.attempt.browser.visit(pageOf(b.next).url));
    expect(reload.html).toContain('+44 •••• ••26 26');
    const refused = pageOf(await submitStep(b.attempt.browser, reload, 'sms-otp', { code: codeForX }));
    expect(alertText(refused.html)).toMatch(/can no longer be used/);
  });

  it('goes back to the form to change the number, within the same send limits', async () => {
    clock.advance(3600);
    const { attempt, next } = await toSecondStep(rp, 'dan', 'dans-long-password');
    let page = pageOf(await submitStep(attempt.browser, pageOf(next), 'phone-capture', { action: 'number', phone: '+447400202020' }));
    expect(page.html).toContain('Change the number');
    page = pageOf(await submitStep(attempt.browser, page, 'phone-capture', { action: 'change' }));
    expect(page.html).toContain('autocomplete="tel"');
    // Too soon after the first code: refused, and the form stays.
    page = pageOf(await submitStep(attempt.browser, page, 'phone-capture', { action: 'number', phone: '+447400212121' }));
    expect(alertText(page.html)).toMatch(/You can ask for a new code in \d+ seconds/);
    expect(page.html).toContain('autocomplete="tel"');
    clock.advance(30);
    const firstCode = sms.lastCode('+447400202020');
    page = pageOf(await submitStep(attempt.browser, page, 'phone-capture', { action: 'number', phone: '+447400212121' }));
    expect(sms.sent.at(-1)!.to).toBe('+447400212121');
    // The code sent to the first number does not verify the second.
    expect(sms.lastCode('+447400212121')).not.toBe(firstCode);
    page = pageOf(await submitStep(attempt.browser, page, 'phone-capture', { code: firstCode }));
    expect(alertText(page.html)).toMatch(/not right/);
    const done = await submitStep(attempt.browser, page, 'phone-capture', { code: sms.lastCode('+447400212121') });
    await exchange(rp, attempt, callbackOf(done));
    expect(await phoneOf('dan')).toEqual({ phone: '+447400212121', verified: true });
  });
});
