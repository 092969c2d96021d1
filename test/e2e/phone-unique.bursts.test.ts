import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser, hiddenValue, type Page } from '../support/browser.ts';
import { burst } from '../support/bursts.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitPassword, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock } from '../support/sms.ts';

const COUNT = 6;

/** `smsOtp.phoneUnique` under a burst: several accounts verify one number at the same moment, and only one gets it. */
describe('one number verified by several accounts at once (phoneUnique)', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();

  beforeAll(async () => {
    t = await startTestApp({
      smsSender: sms, clock, random: distinctCodes(),
      overrides: {
        // Many codes to one number in a moment: the budgets against SMS pumping are not what this is about.
        sms: { defaultCountry: 'GB', ipSendLimit: 10_000, budgets: { perNumber: 1000, perPrefix: 1000, backoffAfter: 100 } },
        smsOtp: { phoneUnique: true, userSendLimit: 100, resendCooldownSeconds: 0 },
        loginRequestLimit: { perAddress: 10_000 },
      },
    });
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  /** The newest code sent to `number` for this account. */
  const codeFor = (accountId: string, number: string) => {
    const message = sms.sent.filter((m) => m.to === number && m.accountId === accountId).at(-1);
    const match = message && /#(\w+)\s*$/.exec(message.text);
    if (!match) throw new Error(`no code sent to ${number} for ${accountId}`);
    return match[1]!;
  };
  const verifiedOn = async (number: string) => accountRepository(t.database.db).findIdsByVerifiedPhone(number);

  it('at login (phone capture): exactly one login saves it, the others are told it cannot be used and may type another', async () => {
    const NUMBER = '+447400313131';
    const users = await Promise.all(Array.from({ length: COUNT }, async (_, i) => ({ name: `cap${i}`, id: await t.addUser(`cap${i}`, `cap${i}s-long-password`) })));
    // Each login types the number while no account has it verified: each gets a code to it.
    const logins = await Promise.all(users.map(async (user) => {
      const { attempt, next } = await toSecondStep(rp, user.name, `${user.name}s-long-password`);
      const codePage = pageOf(await submitStep(attempt.browser, pageOf(next), 'phone-capture', { action: 'number', phone: NUMBER }));
      expect(codePage.html).toContain('autocomplete="one-time-code"');
      return { user, attempt, codePage };
    }));
    const answers = await burst(COUNT, (i) => submitStep(logins[i]!.attempt.browser, logins[i]!.codePage, 'phone-capture', { code: codeFor(logins[i]!.user.id, NUMBER) }));
    const winners = answers.flatMap((a, i) => (a.callback !== undefined ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await verifiedOn(NUMBER)).toEqual([users[winners[0]!]!.id]);
    await exchange(rp, logins[winners[0]!]!.attempt, answers[winners[0]!]!.callback!);

    // Each loser: the number form again, with the reason, nothing saved, and another number goes through.
    for (const [i, answer] of answers.entries()) {
      if (i === winners[0]) continue;
      const page = pageOf(answer);
      expect(alertText(page.html)).toBe('That number cannot be used. Enter another number.');
      expect(page.html).toContain('autocomplete="tel"');
      const account = (await accountRepository(t.database.db).findById(logins[i]!.user.id))!;
      expect({ phone: account.phone, verified: account.phoneVerifiedAt !== null }).toEqual({ phone: null, verified: false });
      const own = `+4474003200${String(i).padStart(2, '0')}`;
      const codePage = pageOf(await submitStep(logins[i]!.attempt.browser, page, 'phone-capture', { action: 'number', phone: own }));
      const done = await submitStep(logins[i]!.attempt.browser, codePage, 'phone-capture', { code: codeFor(logins[i]!.user.id, own) });
      await exchange(rp, logins[i]!.attempt, callbackOf(done));
      expect(await verifiedOn(own)).toEqual([logins[i]!.user.id]);
    }
  });

  it('on the account page (number change): exactly one change saves it, the others keep their number and may type another', async () => {
    const NUMBER = '+447400333333';
    const users = await Promise.all(Array.from({ length: COUNT }, async (_, i) => {
      const own = `+4474003400${String(i).padStart(2, '0')}`;
      return { name: `chg${i}`, own, id: await t.addUser(`chg${i}`, `chg${i}s-long-password`, own) };
    }));
    const post = (browser: Browser, page: Page, action: string, fields: Record<string, string>) =>
      browser.submit(new URL(action, t.issuer).toString(), { _csrf: hiddenValue(page.html, '_csrf'), ...fields });
    // Each signs in at the account page and asks to change to the number: each gets a code to it.
    const changes = await Promise.all(users.map(async (user) => {
      const browser = new Browser('never:');
      const login = pageOf(await browser.visit(`${t.issuer}/account/phone`));
      const codePage = pageOf(await submitPassword(browser, login, user.name, `${user.name}s-long-password`));
      const form = pageOf(await submitStep(browser, codePage, 'sms-otp', { code: codeFor(user.id, user.own) }));
      expect(form.url).toBe(`${t.issuer}/account/phone`);
      const verify = pageOf(await post(browser, form, '/account/phone', { phone: NUMBER }));
      expect(verify.url).toBe(`${t.issuer}/account/phone/verify`);
      return { user, browser, verify };
    }));
    const answers = await burst(COUNT, (i) => post(changes[i]!.browser, changes[i]!.verify, '/account/phone/verify', { code: codeFor(changes[i]!.user.id, NUMBER) }));
    const winners = answers.flatMap((a, i) => (a.page && new URL(a.page.url).pathname === '/account' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await verifiedOn(NUMBER)).toEqual([users[winners[0]!]!.id]);

    for (const [i, answer] of answers.entries()) {
      if (i === winners[0]) continue;
      const { user, browser } = changes[i]!;
      expect(alertText(pageOf(answer).html)).toBe('That number cannot be used. Enter another number.');
      expect(new URL(pageOf(answer).url).pathname).toBe('/account/phone');
      expect((await accountRepository(t.database.db).findById(user.id))!.phone).toBe(user.own);
      // Still signed in here: another number goes through.
      const other = `+4474003500${String(i).padStart(2, '0')}`;
      const verify = pageOf(await post(browser, pageOf(answer), '/account/phone', { phone: other }));
      const done = pageOf(await post(browser, verify, '/account/phone/verify', { code: codeFor(user.id, other) }));
      expect(alertText(done.html)).toMatch(/Your number was changed/);
      expect(await verifiedOn(other)).toEqual([user.id]);
    }
  });
});
