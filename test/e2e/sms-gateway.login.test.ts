import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep } from '../support/rp.ts';

describe('a login through the HTTP gateway', () => {
  let t: TestApp;
  let fake: FakeGateway;

  beforeAll(async () => {
    fake = await FakeGateway.start();
    fake.basicAuth = { username: 'AC77', password: 'gateway-token-77' };
    t = await startTestApp({
      overrides: {
        sms: {
          sender: 'http',
          allowedCountries: ['GB'],
          circuitFailures: 2,
          gateway: { preset: 'twilio', accountSid: 'AC77', authToken: 'gateway-token-77', from: '+15005550006', url: `${fake.origin}/2010-04-01/Accounts/AC77/Messages.json` },
        },
      },
    });
    await t.addUser('xia', 'xias-long-password', '+447400131313');
    await t.addUser('yan', 'yans-long-password', '+14155552671');
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  it('sends the code through the gateway and completes with it', async () => {
    const rp = await relyingParty(t, await t.addClient('web-app'));
    const { attempt, next } = await toSecondStep(rp, 'xia', 'xias-long-password');
    expect(fake.received).toHaveLength(1);
    expect(fake.received[0]!.form.get('To')).toBe('+447400131313');
    const done = await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: fake.lastCode() });
    expect((await exchange(rp, attempt, callbackOf(done))).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
    const row = await t.database.db.selectFrom('sms_messages').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sent', http_status: 201, provider_message_id: expect.stringMatching(/^SM/), destination: '+44 •••• ••13 13' });
  });

  it('refuses a destination outside the allow-list without calling the gateway', async () => {
    const rp = await relyingParty(t, await t.addClient('other-app'));
    const before = fake.received.length;
    const { next } = await toSecondStep(rp, 'yan', 'yans-long-password');
    expect(alertText(pageOf(next).html)).toMatch(/Codes cannot be sent to the number on your account/);
    expect(fake.received.length).toBe(before);
    // Nothing went out, so nothing counts against the budgets.
    expect(await t.database.db.selectFrom('sms_messages').select('status').where('status', '=', 'reserved').execute()).toEqual([]);
  });

  it('shows the failure, and reports the open circuit in /readyz while staying ready', async () => {
    const rp = await relyingParty(t, await t.addClient('third-app'));
    fake.reply = () => ({ status: 503, body: { message: 'unavailable' } });
    for (let i = 0; i < 2; i++) {
      const { next } = await toSecondStep(rp, 'xia', 'xias-long-password');
      expect(alertText(pageOf(next).html)).toBe('We could not send the code. Ask for a new code, or use a backup code.');
    }
    const ready = await fetch(`${t.issuer}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: { status: 'ok' }, smsGateway: { status: 'ok', circuit: { status: 'open', consecutiveFailures: 2 } } } });
    fake.reply = undefined;
  });
});
