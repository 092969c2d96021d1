import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { burst, countEvents, countingHasher } from '../support/bursts.ts';
import { callbackOf, pageOf, relyingParty, startLogin, submitPassword, type RelyingParty } from '../support/rp.ts';
import { TestClock } from '../support/sms.ts';

/** A burst of simultaneous wrong passwords gets exactly the tries the throttle and the lock allow. */
describe('the password throttle and lock under a burst', () => {
  const clock = new TestClock();

  /** A Keystep with these password settings for the enclosing describe, and its app and hasher. */
  function withPasswordPolicy(password: Record<string, number>) {
    const app = {} as { t: TestApp; rp: RelyingParty; hasher: ReturnType<typeof countingHasher> };
    beforeAll(async () => {
      app.hasher = countingHasher();
      app.t = await startTestApp({ clock, hasher: app.hasher, overrides: { smsOtp: { mandatory: false }, password } });
      await app.t.addUser('target', 'targets-long-password');
      await app.t.addUser('tim', 'tims-long-password');
      app.rp = await relyingParty(app.t, await app.t.addClient('web-app'));
    });
    afterAll(() => app.t.close());
    return app;
  }

  async function guess(rp: RelyingParty, username: string, password: string) {
    const attempt = await startLogin(rp);
    return submitPassword(attempt.browser, pageOf(attempt.visit), username, password);
  }

  describe('the throttle', () => {
    const app = withPasswordPolicy({ throttleAfter: 3, lockAfter: 10 });

    it('checks exactly throttleAfter of 60 simultaneous wrong passwords, for a real and an unknown username', async () => {
      for (const username of ['target', 'nobody-at-all']) {
        const before = app.hasher.checked;
        const pages = await burst(60, () => guess(app.rp, username, 'a-wrong-password'));
        expect(app.hasher.checked - before).toBe(3);
        const texts = pages.map((p) => alertText(pageOf(p).html));
        expect(texts.filter((m) => m === 'The username or password is incorrect.')).toHaveLength(3);
        expect(texts.filter((m) => m?.startsWith('Too many wrong passwords for this username.'))).toHaveLength(57);
      }
      expect(await countEvents(app.t.database.db, 'login.password', 'wrong_password')).toBe(3);
      expect(await countEvents(app.t.database.db, 'login.password', 'unknown_user')).toBe(3);
      expect(await countEvents(app.t.database.db, 'login.password', 'throttled')).toBe(114);
    });

    it('refuses the right password after the burst until the wait is over, without hashing it', async () => {
      const before = app.hasher.checked;
      expect(alertText(pageOf(await guess(app.rp, 'target', 'targets-long-password')).html)).toMatch(/^Too many wrong passwords/);
      expect(app.hasher.checked).toBe(before);
      clock.advance(1);
      callbackOf(await guess(app.rp, 'target', 'targets-long-password'));
    });
  });

  describe('the lock', () => {
    // No throttle before the lock, so the burst meets the lock alone.
    const app = withPasswordPolicy({ throttleAfter: 100, lockAfter: 10 });

    it('checks exactly lockAfter of 60 simultaneous wrong passwords and locks once', async () => {
      const pages = await burst(60, () => guess(app.rp, 'target', 'a-wrong-password'));
      expect(app.hasher.checked).toBe(10);
      const texts = pages.map((p) => alertText(pageOf(p).html));
      expect(texts.filter((m) => m === 'The username or password is incorrect.')).toHaveLength(9);
      // The tenth wrong password is the one that locks; every later one meets the lock.
      expect(texts.filter((m) => m?.startsWith('Sign-in for this username is locked'))).toHaveLength(51);
      expect(await countEvents(app.t.database.db, 'login.locked')).toBe(1);
      expect(await countEvents(app.t.database.db, 'login.password', 'locked')).toBe(50);
    });

    it('holds the lock for every spelling the account lookup matches (İ lowers to i in the database)', async () => {
      await burst(30, () => guess(app.rp, 'tim', 'a-wrong-password'));
      const checked = app.hasher.checked;
      for (const spelling of ['TIM', 't\u0130m', ' Tim ']) {
        expect(alertText(pageOf(await guess(app.rp, spelling, 'tims-long-password')).html)).toMatch(/^Sign-in for this username is locked/);
      }
      expect(app.hasher.checked).toBe(checked);
    });

    it('holds the lock against the right password that comes after it', async () => {
      const page = pageOf(await guess(app.rp, 'target', 'targets-long-password'));
      expect(alertText(page.html)).toMatch(/^Sign-in for this username is locked/);
      clock.advance(901);
      callbackOf(await guess(app.rp, 'target', 'targets-long-password'));
    });
  });
});
