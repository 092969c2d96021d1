import { createSecretKey } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealSecret } from '../../src/login/factors/totp/secrets.ts';
import { totpCredentialRepository } from '../../src/repositories/totp-credentials.ts';
import { purposeKey } from '../../src/shared/keys.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, type Browser, type Page } from '../support/browser.ts';
import { burst, countEvents } from '../support/bursts.ts';
import { pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { RecordingSender, TestClock } from '../support/sms.ts';

// The server secret is given, so the test can seal the app's secret as Keystep does.
const SERVER_SECRET = 'a-server-secret-for-the-totp-burst-0123456789';
const SECRET = 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU';

describe('one authenticator code under a burst', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let accountId: string;
  const clock = new TestClock();

  beforeAll(async () => {
    // A high lock threshold: the losers' replays count as wrong codes, and must not lock the winner out.
    t = await startTestApp({ clock, smsSender: new RecordingSender(), overrides: { keys: { otpHmacKey: SERVER_SECRET }, smsOtp: { lockoutThreshold: 100 } } });
    accountId = await t.addUser('vic', 'vics-long-password', '+447400272727');
    const key = purposeKey(createSecretKey(Buffer.from(SERVER_SECRET, 'utf8')), 'totp-secrets');
    await totpCredentialRepository(t.database.db).save(accountId, sealSecret(key, SECRET, accountId), 0, clock.now());
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  it('finishes exactly one of 50 simultaneous logins submitting the same right code', async () => {
    // Opened one after another (the password throttle holds back simultaneous right passwords).
    const logins: { browser: Browser; page: Page }[] = [];
    for (let i = 0; i < 50; i++) {
      const { attempt, next } = await toSecondStep(rp, 'vic', 'vics-long-password');
      logins.push({ browser: attempt.browser, page: pageOf(next) });
    }
    expect(logins[0]!.page.html).toContain('name="step" value="totp"');
    const code = TOTP.generate({ secret: Secret.fromBase32(SECRET), algorithm: 'SHA1', digits: 6, period: 30, timestamp: clock.now().getTime() });
    const results = await burst(50, (i) => submitStep(logins[i]!.browser, logins[i]!.page, 'totp', { code }));
    expect(results.filter((r) => r.callback !== undefined)).toHaveLength(1);
    const refused = results.filter((r) => r.page && /already used/.test(alertText(r.page.html) ?? ''));
    expect(refused).toHaveLength(49);
    expect(await countEvents(t.database.db, 'login.totp', 'code_replayed')).toBe(49);
    expect(await countEvents(t.database.db, 'login.totp')).toBe(50);
  });
});
