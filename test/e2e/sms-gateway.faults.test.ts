import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { FakeGateway, type Reply } from '../support/fake-gateway.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { TestClock } from '../support/sms.ts';

const HUGE = 30 * 1024 * 1024;

/** Logins through a real HTTP gateway that fails in every way we know of. */
describe('gateway faults during a login', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let fake: FakeGateway;
  const clock = new TestClock();

  beforeAll(async () => {
    fake = await FakeGateway.start();
    t = await startTestApp({
      clock,
      overrides: {
        smsOtp: { userSendLimit: 3, maxResends: 1, resendCooldownSeconds: 30 },
        sms: {
          sender: 'http', ipSendLimit: 4, globalSendLimit: 5, circuitFailures: 3, circuitCooldownSeconds: 30,
          gateway: { url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', timeoutMs: 200, messageIdPath: 'sid' },
        },
      },
    });
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  beforeEach(async () => {
    // Fresh budgets, a closed circuit (its cooldown passes), a healthy gateway.
    clock.advance(7200);
    fake.reply = undefined;
    fake.received.length = 0;
    await t.database.db.deleteFrom('sms_messages').execute();
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  let users = 0;
  async function newUser() {
    const name = `user${++users}`;
    const phone = `+4474005${String(users).padStart(5, '0')}`;
    await t.addUser(name, `${name}-long-password`, phone);
    return { name, password: `${name}-long-password`, phone };
  }

  const statuses = async () => (await t.database.db.selectFrom('sms_messages').select('status').orderBy('id').execute()).map((r) => r.status);
  const completed = async () => (await t.database.db.selectFrom('auth_events').select('event').where('event', '=', 'login.completed').execute()).length;

  const faults: { name: string; start(): Promise<void> | void; status: string; alert: RegExp }[] = [
    { name: 'down (connection refused)', start: () => fake.down(), status: 'unreached', alert: /^We could not send the code/ },
    { name: 'slow (beyond timeoutMs)', start: () => { fake.reply = () => ({ status: 201, body: { sid: 'SM-late' }, delayMs: 5_000 }); }, status: 'uncertain', alert: /^We could not confirm that the code was sent/ },
    { name: '5xx', start: () => { fake.reply = () => ({ status: 502, body: '<html>Bad Gateway</html>' }); }, status: 'failed', alert: /^We could not send the code/ },
    { name: 'garbage with a success status', start: () => { fake.reply = () => ({ status: 200, body: '\u00ff\u00fe<<not json' }); }, status: 'uncertain', alert: /^We could not confirm/ },
    { name: 'a huge body with a success status', start: () => { fake.reply = () => ({ status: 201, bodyBytes: HUGE }) satisfies Reply; }, status: 'uncertain', alert: /^We could not confirm/ },
    { name: 'a huge body with a failure', start: () => { fake.reply = () => ({ status: 500, bodyBytes: HUGE }); }, status: 'failed', alert: /^We could not send the code/ },
    { name: 'NUL in the body', start: () => { fake.reply = () => ({ status: 500, body: 'out of \u0000 credit \u0000' }); }, status: 'failed', alert: /^We could not send the code/ },
  ];

  for (const fault of faults) {
    it(`${fault.name}: no factor skipped, nothing left reserved, a clear way forward, and codes again once it recovers`, async () => {
      const user = await newUser();
      const before = await completed();
      await fault.start();
      const { attempt, next } = await toSecondStep(rp, user.name, user.password);
      let page = pageOf(next);
      expect(alertText(page.html)).toMatch(fault.alert);
      expect(page.html).toContain('Send a new code');
      expect(page.html).toContain('Use a backup code instead');
      // Guessing gets nowhere.
      page = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { code: '123456' }));
      expect(page.html).toContain('autocomplete="one-time-code"');
      expect(await completed()).toBe(before);
      expect(await statuses()).toEqual([fault.status]);
      const row = await t.database.db.selectFrom('sms_messages').select('error').executeTakeFirstOrThrow();
      expect(row.error).not.toContain('\u0000');

      // The gateway recovers. A sure failure cost nothing and waived the cooldown: the same login
      // asks again at once. After an uncertain one the cooldown holds (a second SMS may follow the
      // first), and a new code comes once it has passed.
      if (fault.name.startsWith('down')) await fake.up();
      fake.reply = undefined;
      if (fault.status === 'uncertain') clock.advance(30);
      const resent = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
      expect(alertText(resent.html)).toMatch(/^We sent a new code/);
      const tokens = await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, resent, 'sms-otp', { code: fake.lastCode(user.phone) })));
      expect(tokens.claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
      expect(await statuses()).toEqual([fault.status, 'sent']);
    });
  }

  it('an outage spends no budget: failed, unreached and circuit-open sends do not count, and codes go out once it ends', async () => {
    const [ann, bob, cat] = [await newUser(), await newUser(), await newUser()];
    fake.reply = () => ({ status: 503 });
    // Ann clicks "Send a new code" over and over: the first three reach the gateway, then the
    // circuit opens and the rest fail fast without calling it. None counts against maxResends (1).
    const login = await toSecondStep(rp, ann.name, ann.password);
    let page = pageOf(login.next);
    for (let i = 0; i < 8; i++) {
      page = pageOf(await submitStep(login.attempt.browser, page, 'sms-otp', { action: 'resend' }));
      expect(alertText(page.html)).toMatch(/^We could not send the code/);
    }
    expect(fake.received).toHaveLength(3);
    const challenge = await t.database.db.selectFrom('otp_challenges').select(['sends', 'last_send']).where('account_id', '=', (await t.database.db.selectFrom('accounts').select('id').where('username', '=', ann.name).executeTakeFirstOrThrow()).id).executeTakeFirstOrThrow();
    expect(challenge).toEqual({ sends: 0, last_send: 'failed' });
    // More logins of every account, past each budget (the account's 3, the address's 4, everyone's 5).
    for (const user of [ann, ann, ann, bob, bob, cat]) await toSecondStep(rp, user.name, user.password);
    // The circuit lets a trial through after its cooldown: the gateway is now down altogether.
    clock.advance(31);
    await fake.down();
    await toSecondStep(rp, cat.name, cat.password);
    expect(await statuses()).toEqual([...Array(3).fill('failed'), ...Array(13).fill('unreached')]);

    // It ends. Once the circuit's cooldown has passed, every account gets its code at once.
    await fake.up();
    fake.reply = undefined;
    clock.advance(31);
    const resent = pageOf(await submitStep(login.attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(resent.html)).toMatch(/^We sent a new code/);
    await exchange(rp, login.attempt, callbackOf(await submitStep(login.attempt.browser, resent, 'sms-otp', { code: fake.lastCode(ann.phone) })));
    for (const user of [ann, bob, cat]) {
      const { attempt, next } = await toSecondStep(rp, user.name, user.password);
      expect(alertText(pageOf(next).html)).toBeUndefined();
      await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: fake.lastCode(user.phone) })));
    }
    expect((await statuses()).filter((s) => s === 'sent')).toHaveLength(4);
    expect(await t.database.db.selectFrom('auth_events').select('reason').where('event', '=', 'sms.blocked').execute()).toEqual([]);
  });
});
