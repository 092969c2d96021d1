import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { TestClock } from '../support/sms.ts';

/** Logins through two providers on loopback, the first of which fails in the ways that matter. */
describe('a login with two SMS providers', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let primary: FakeGateway;
  let backup: FakeGateway;
  const clock = new TestClock();

  beforeAll(async () => {
    [primary, backup] = await Promise.all([FakeGateway.start(), FakeGateway.start()]);
    const template = (name: string, fake: FakeGateway) => ({ name, url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', successStatus: [201], messageIdPath: 'sid', timeoutMs: 200 });
    t = await startTestApp({
      clock,
      overrides: {
        smsOtp: { resendCooldownSeconds: 30 },
        sms: { sender: 'http', gateways: [{ ...template('primary', primary), notSentStatus: [503] }, template('backup', backup)] },
      },
    });
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  beforeEach(async () => {
    clock.advance(7200);
    for (const fake of [primary, backup]) {
      fake.reply = undefined;
      fake.received.length = 0;
    }
  });
  afterAll(async () => {
    await t.close();
    for (const fake of [primary, backup]) await fake.stop();
  });

  let users = 0;
  async function newUser() {
    const name = `failover${++users}`;
    const phone = `+4474007${String(users).padStart(5, '0')}`;
    await t.addUser(name, `${name}-long-password`, phone);
    return { name, password: `${name}-long-password`, phone };
  }
  const sends = async (phone: string) => (await t.database.db.selectFrom('sms_messages').select(['gateway', 'status']).where('destination', 'like', `%${phone.slice(-2)}`).orderBy('at').orderBy('id').execute()).map((r) => `${r.gateway}:${r.status}`);

  it('a provider that documents its 503 as "not sent" is passed over at once: one SMS, from the backup', async () => {
    primary.reply = () => ({ status: 503 });
    const user = await newUser();
    const { attempt, next } = await toSecondStep(rp, user.name, user.password);
    expect(alertText(pageOf(next).html)).toBeUndefined();
    expect([primary.to(user.phone).length, backup.to(user.phone).length]).toEqual([1, 1]);
    expect(await sends(user.phone)).toEqual(['backup:sent']);
    await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: backup.lastCode(user.phone) })));
  });

  it('a timeout is not followed by a second SMS from the backup; the new code the user asks for goes through the backup', async () => {
    primary.reply = () => ({ status: 201, body: { sid: 'SM-late' }, delayMs: 5_000 });
    const user = await newUser();
    const { attempt, next } = await toSecondStep(rp, user.name, user.password);
    let page = pageOf(next);
    expect(alertText(page.html)).toMatch(/^We could not confirm that the code was sent/);
    expect([primary.to(user.phone).length, backup.to(user.phone).length]).toEqual([1, 0]);
    expect(await sends(user.phone)).toEqual(['primary:uncertain']);

    // The primary answers again, but this login's new code goes elsewhere: its last one may be stuck there.
    primary.reply = undefined;
    clock.advance(30);
    page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(page.html)).toMatch(/^We sent a new code/);
    expect([primary.to(user.phone).length, backup.to(user.phone).length]).toEqual([1, 1]);
    expect(await sends(user.phone)).toEqual(['primary:uncertain', 'backup:sent']);
    const tokens = await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, page, 'sms-otp', { code: backup.lastCode(user.phone) })));
    expect(tokens.claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);

    // Another login starts with the primary again.
    const other = await newUser();
    await toSecondStep(rp, other.name, other.password);
    expect(await sends(other.phone)).toEqual(['primary:sent']);
  });
});
