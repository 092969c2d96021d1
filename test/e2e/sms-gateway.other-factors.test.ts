import { createSecretKey } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealSecret } from '../../src/login/factors/totp/secrets.ts';
import { totpCredentialRepository } from '../../src/repositories/totp-credentials.ts';
import { purposeKey } from '../../src/shared/keys.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { TestClock } from '../support/sms.ts';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const SERVER_SECRET = 'a-server-secret-of-32-characters-or-more';
const PHONE = '+447400282828';

/** With the SMS gateway down, an account with another second factor still signs in. */
describe('a login while the SMS gateway is down', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let fake: FakeGateway;
  const clock = new TestClock();

  beforeAll(async () => {
    fake = await FakeGateway.start();
    t = await startTestApp({
      clock,
      overrides: {
        keys: { otpHmacKey: SERVER_SECRET },
        sms: { sender: 'http', gateway: { url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', timeoutMs: 200, messageIdPath: 'sid' } },
      },
    });
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  it('completes with the authenticator app, even when the SMS code was used last and is asked for first', async () => {
    const id = await t.addUser('sam', 'sams-long-password', PHONE);
    const totpKey = purposeKey(createSecretKey(Buffer.from(SERVER_SECRET, 'utf8')), 'totp-secrets');
    await totpCredentialRepository(t.database.db).save(id, sealSecret(totpKey, SECRET, id), 0, new Date(clock.now().getTime() - 60_000));
    await t.database.db.insertInto('account_factors').values({ account_id: id, factor: 'sms-otp', enrolled_at: clock.now(), last_used_at: clock.now() }).execute();
    await fake.down();

    const { attempt, next } = await toSecondStep(rp, 'sam', 'sams-long-password');
    const smsPage = pageOf(next);
    expect(smsPage.html).toContain('name="step" value="sms-otp"');
    expect(alertText(smsPage.html)).toMatch(/^We could not send the code/);
    const appPage = pageOf(await submitStep(attempt.browser, smsPage, 'sms-otp', { action: 'totp' }));
    expect(appPage.html).toContain('name="step" value="totp"');
    clock.advance(30);
    const code = TOTP.generate({ secret: Secret.fromBase32(SECRET), algorithm: 'SHA1', digits: 6, period: 30, timestamp: clock.now().getTime() });
    const tokens = await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, appPage, 'totp', { code })));
    expect(tokens.claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(fake.received).toHaveLength(0);
    expect(await t.database.db.selectFrom('sms_messages').select('status').execute()).toEqual([{ status: 'unreached' }]);
  });
});
