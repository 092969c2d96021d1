import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser, formAction, hiddenValue, type RequestInit } from '../support/browser.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { pageOf, relyingParty, startLogin, submitStep, type RelyingParty } from '../support/rp.ts';
import { TestClock } from '../support/sms.ts';

const BURST = 50;

/** A browser behind a proxy that names its address (Keystep trusts the proxy here). */
class BrowserAt extends Browser {
  readonly ip: string;
  constructor(stopAt: string, ip: string) {
    super(stopAt);
    this.ip = ip;
  }
  override request(url: string, init: RequestInit = {}): Promise<Response> {
    return super.request(url, { ...init, headers: { ...init.headers, 'x-forwarded-for': this.ip } });
  }
}

/**
 * Every SMS limit holds exactly when many requests arrive at once: the resends of one login
 * (cooldown, maxResends), the account's budget across logins, the address's across accounts, and
 * everyone's. What the gateway received and what `sms_messages` holds are both counted.
 */
describe('SMS limits under bursts', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let fake: FakeGateway;
  const clock = new TestClock();
  const limits = { userSendLimit: 5, ipSendLimit: 5, globalSendLimit: 12, maxResends: 3 };

  beforeAll(async () => {
    fake = await FakeGateway.start();
    t = await startTestApp({
      clock,
      overrides: {
        trustProxy: true,
        smsOtp: { userSendLimit: limits.userSendLimit, maxResends: limits.maxResends, resendCooldownSeconds: 30 },
        sms: {
          sender: 'http', ipSendLimit: limits.ipSendLimit, globalSendLimit: limits.globalSendLimit, circuitFailures: 100,
          gateway: { url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', messageIdPath: 'sid' },
        },
      },
    });
    rp = await relyingParty(t, await t.addClient('web-app'));
    const hash = await t.hasher.hash('burst-long-password');
    await t.database.db.insertInto('accounts')
      .values(Array.from({ length: BURST + 2 }, (_, i) => ({ username: `user${i}`, password_hash: hash, phone: phoneOf(i), phone_verified_at: new Date() })))
      .execute();
  });
  beforeEach(async () => {
    // Every burst starts with fresh budgets.
    clock.advance(7200);
    fake.received.length = 0;
    await t.database.db.deleteFrom('sms_messages').execute();
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  function phoneOf(i: number): string {
    return `+4474006${String(i).padStart(5, '0')}`;
  }

  /** A login of user `i` from `ip`, with the password passed and the code page not opened yet. */
  async function passwordPassed(i: number, ip: string) {
    const attempt = await startLogin(rp, {}, new BrowserAt(rp.redirectUri, ip));
    const page = pageOf(attempt.visit);
    const form = new URLSearchParams({ _csrf: hiddenValue(page.html, '_csrf'), step: 'password', username: `user${i}`, password: 'burst-long-password' });
    const response = await attempt.browser.request(new URL(formAction(page.html), page.url).toString(), { method: 'POST', body: form.toString(), contentType: 'application/x-www-form-urlencoded' });
    await response.arrayBuffer();
    expect(response.status).toBe(303);
    return { attempt, codePage: new URL(response.headers.get('location')!, page.url).toString() };
  }

  /** Opens every code page at once: each would send the login's first code. */
  async function openAtOnce(logins: Awaited<ReturnType<typeof passwordPassed>>[]) {
    const pages = await Promise.all(logins.map((l) => l.attempt.browser.visit(l.codePage)));
    return pages.map((v) => alertText(pageOf(v).html));
  }

  async function rows() {
    const all = await t.database.db.selectFrom('sms_messages').select('status').execute();
    return { sent: all.filter((r) => r.status === 'sent').length, other: all.filter((r) => r.status !== 'sent').map((r) => r.status) };
  }

  it(`${BURST} resends at once in one login: one SMS per cooldown, and never more than maxResends`, async () => {
    const { attempt, codePage } = await passwordPassed(BURST, '198.51.100.1');
    const page = pageOf(await attempt.browser.visit(codePage));
    const burst = () => Promise.all(Array.from({ length: BURST }, () => submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' })));
    // The cooldown is 30 s and doubles with each resend: each wait lets exactly one through.
    const sentAfter: number[] = [];
    for (const wait of [0, 30, 0, 60, 120, 240, 3600]) {
      clock.advance(wait);
      await burst();
      sentAfter.push(fake.to(phoneOf(BURST)).length);
    }
    expect(sentAfter).toEqual([1, 2, 2, 3, 4, 4, 4]);
    expect(await rows()).toEqual({ sent: 1 + limits.maxResends, other: [] });
    const challenge = await t.database.db.selectFrom('otp_challenges').select('sends').where('destination', '=', phoneOf(BURST)).executeTakeFirstOrThrow();
    expect(challenge.sends).toBe(1 + limits.maxResends);
  });

  it(`${BURST} logins of one account at once get exactly userSendLimit codes`, async () => {
    // The passwords one after another (simultaneous right passwords for one username meet the
    // password throttle); then the burst: every code page opened at once.
    const logins = [];
    for (let n = 0; n < BURST; n++) logins.push(await passwordPassed(BURST + 1, `198.51.100.${n + 10}`));
    const alerts = await openAtOnce(logins);
    expect(fake.to(phoneOf(BURST + 1))).toHaveLength(limits.userSendLimit);
    expect(alerts.filter((a) => a === undefined)).toHaveLength(limits.userSendLimit);
    expect(alerts.filter((a) => a?.startsWith('No more codes can be sent for now.'))).toHaveLength(BURST - limits.userSendLimit);
    expect(await rows()).toEqual({ sent: limits.userSendLimit, other: [] });
  });

  it(`${BURST} accounts from one address at once get exactly ipSendLimit codes`, async () => {
    const logins = await Promise.all(Array.from({ length: BURST }, (_, i) => passwordPassed(i, '203.0.113.7')));
    const alerts = await openAtOnce(logins);
    expect(fake.received).toHaveLength(limits.ipSendLimit);
    expect(alerts.filter((a) => a?.startsWith('No more codes can be sent for now.'))).toHaveLength(BURST - limits.ipSendLimit);
    expect(await rows()).toEqual({ sent: limits.ipSendLimit, other: [] });
  });

  it(`${BURST} accounts from ${BURST} addresses at once get exactly globalSendLimit codes`, async () => {
    const logins = await Promise.all(Array.from({ length: BURST }, (_, i) => passwordPassed(i, `192.0.2.${i + 1}`)));
    const alerts = await openAtOnce(logins);
    expect(fake.received).toHaveLength(limits.globalSendLimit);
    expect(alerts.filter((a) => a?.startsWith('No more codes can be sent for now.'))).toHaveLength(BURST - limits.globalSendLimit);
    expect(await rows()).toEqual({ sent: limits.globalSendLimit, other: [] });
  });
});
