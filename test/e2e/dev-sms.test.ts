import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep } from '../support/rp.ts';

describe('the development SMS sender', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await t.addUser('wes', 'wess-long-password', '+447400121212');
  });
  afterAll(() => t.close());

  it('shows sent messages at /dev/sms, and a login completes with the code from there', async () => {
    const rp = await relyingParty(t, await t.addClient('web-app'));
    const { attempt, next } = await toSecondStep(rp, 'wes', 'wess-long-password');
    const inbox = await (await fetch(`${t.issuer}/dev/sms`)).text();
    expect(inbox).toContain('+447400121212');
    const code = /#(\d{6})/.exec(inbox)![1]!;
    const done = await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code });
    expect((await exchange(rp, attempt, callbackOf(done))).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
    const rows = await t.database.db.selectFrom('sms_messages').select(['status', 'destination', 'provider_message_id', 'purpose']).execute();
    expect(rows).toEqual([{ status: 'sent', destination: '+44 •••• ••12 12', provider_message_id: 'dev-1', purpose: 'otp' }]);
  });
});
