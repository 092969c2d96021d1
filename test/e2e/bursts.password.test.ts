import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { burst, countEvents, countingHasher } from '../support/bursts.ts';
import { callbackOf, pageOf, relyingParty, startLogin, submitPassword, type RelyingParty } from '../support/rp.ts';
import { TestClock } from '../support/sms.ts';

/** A burst of simultaneous wrong passwords gets exactly the tries the throttle and the lock allow. */
describe('the password throttle and lock under a burst', () => {
  const clock = new TestClock();

  async function start(password: Record<string, number>) {
    const hasher = countingHasher();
    const t = await startTestApp({ clock, hasher, overrides: { smsOtp: { mandatory: false }, password } });
    await t.addUser('target', 'targets-long-password');
    await t.addUser('tim', 'tims-long-password');
    const rp = await relyingParty(t, await t.addClient('web-app'));
    return { t, rp, hasher };
  }

  async function guess(rp: RelyingParty, username: string, password: string) {
    const attempt = await startLogin(rp);
    return submitPassword(attempt.browser, pageOf(attempt.visit), username, password);
  }

  describe('the throttle', () => {
    let t: TestApp;
    let rp: RelyingParty;
    let hasher: ReturnType<typeof countingHasher>;
    beforeAll(async () => ({ t, rp, hasher } = await start({ throttleAfter: 3, lockAfter: 10 })));
    afterAll(() => t.close());

    it('checks exactly throttleAfter of 60 simultaneous wrong passwords, for a real and an unknown username', async () => {
      for (const username of ['target', 'nobody-at-all']) {
        const before = hasher.checked;
        const pages = await burst(60, () => guess(rp, username, 'a-wrong-password'));
        expect(hasher.checked - before).toBe(3);
        const texts = pages.map((p) => alertText(pageOf(p).html));
        expect(texts.filter((m) => m === 'The username or password is incorrect.')).toHaveLength(3);
        expect(texts.filter((m) => m?.startsWith('Too many wrong passwords for this username.'))).toHaveLength(57);
      }
      expect(await countEvents(t.database.db, 'login.password', 'wrong_password')).toBe(3);
      expect(await countEvents(t.database.db, 'login.password', 'unknown_user')).toBe(3);
      expect(await countEvents(t.database.db, 'login.password', 'throttled')).toBe(114);
    });

    it('refuses the right password after the burst until the wait is over, without hashing it', async () => {
      const before = hasher.checked;
      expect(alertText(pageOf(await guess(rp, 'target', 'targets-long-password')).html)).toMatch(/^Too many wrong passwords/);
      expect(hasher.checked).toBe(before);
      clock.advance(1);
      callbackOf(await guess(rp, 'target', 'targets-long-password'));
    });
  });

  describe('the lock', () => {
    let t: TestApp;
    let rp: RelyingParty;
    let hasher: ReturnType<typeof countingHasher>;
    // No throttle before the lock, so the burst meets the lock alone.
    beforeAll(async () => ({ t, rp, hasher } = await start({ throttleAfter: 100, lockAfter: 10 })));
    afterAll(() => t.close());

    it('checks exactly lockAfter of 60 simultaneous wrong passwords and locks once', async () => {
      const pages = await burst(60, () => guess(rp, 'target', 'a-wrong-password'));
      expect(hasher.checked).toBe(10);
      const texts = pages.map((p) => alertText(pageOf(p).html));
      expect(texts.filter((m) => m === 'The username or password is incorrect.')).toHaveLength(9);
      // The tenth wrong password is the one that locks; every later one meets the lock.
      expect(texts.filter((m) => m?.startsWith('Sign-in for this username is locked'))).toHaveLength(51);
      expect(await countEvents(t.database.db, 'login.locked')).toBe(1);
      expect(await countEvents(t.database.db, 'login.password', 'locked')).toBe(50);
    });

    it('holds the lock for every spelling the account lookup matches (İ lowers to i in the database)', async () => {
      await burst(30, () => guess(rp, 'tim', 'a-wrong-password'));
      const checked = hasher.checked;
      for (const spelling of ['TIM', 't\u0130m', ' Tim ']) {
        expect(alertText(pageOf(await guess(rp, spelling, 'tims-long-password')).html)).toMatch(/^Sign-in for this username is locked/);
      }
      expect(hasher.checked).toBe(checked);
    });

    it('holds the lock against the right password that comes after it', async () => {
      const page = pageOf(await guess(rp, 'target', 'targets-long-password'));
      expect(alertText(page.html)).toMatch(/^Sign-in for this username is locked/);
      clock.advance(901);
      callbackOf(await guess(rp, 'target', 'targets-long-password'));
    });
  });
});
