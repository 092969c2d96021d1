import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginFlowRepository } from '../../src/repositories/login-flows.ts';
import { otpChallengeRepository } from '../../src/repositories/otp-challenges.ts';
import { smsCodeMessages } from '../../src/login/sms-codes/messages.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { burstWinners } from '../support/bursts.ts';
import { alertText } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitPassword, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { RecordingSender, TestClock } from '../support/sms.ts';

/** Requests racing within one login, and logins racing for one account's budget. */
describe('races', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();
  const owners = new Map<string, string>();

  beforeAll(async () => {
    // Simultaneous right passwords each take a try from the username's count before their hash: the
    // throttle (3 by default) must not be what stops the eight logins of one account below.
    t = await startTestApp({ smsSender: sms, clock, overrides: { password: { throttleAfter: 20 }, smsOtp: { userSendLimit: 4, resendCooldownSeconds: 30, maxResends: 10 } } });
    owners.set('+447400141414', await t.addUser('victim', 'victims-long-password', '+447400141414'));
    owners.set('+447400151515', await t.addUser('attacker', 'attackers-long-password', '+447400151515'));
    await t.addUser('zed', 'zeds-long-password', '+447400161616');
    await t.addUser('amy', 'amys-long-password', '+447400171717');
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  it('a stale copy of a login cannot be saved over a newer one', async () => {
    const flows = loginFlowRepository(t.database.db);
    const flow = await flows.findOrCreate('race-uid', new Date(Date.now() + 60_000));
    expect(await flows.save({ ...flow, accountId: null, data: { slots: { a: 1 } } })).toBe(true);
    expect(await flows.save({ ...flow, accountId: null, data: { slots: { b: 2 } } })).toBe(false);
    expect((await flows.find('race-uid'))!.data).toEqual({ slots: { a: 1 } });
    // A message saved for a losing request does not make the winner's save fail.
    const current = (await flows.find('race-uid'))!;
    expect(await flows.saveData({ ...current, data: { slots: {}, flash: { message: 'x' } } })).toBe(true);
    expect(await flows.save({ ...current, accountId: null, data: { slots: { progressed: true } } })).toBe(true);
    expect(await flows.saveData({ ...current, data: { slots: {}, flash: { message: 'late' } } })).toBe(false);
  });

  it('a login opened twice, at once or by a reload, keeps its first flow', async () => {
    const flows = loginFlowRepository(t.database.db);
    const expires = new Date(Date.now() + 60_000);
    const [a, b] = await Promise.all([flows.findOrCreate('open-uid', expires), flows.findOrCreate('open-uid', expires)]);
    expect(a).toEqual(b);
    const saved = await flows.save({ ...a, data: { slots: { kept: true } } });
    expect(saved).toBe(true);
    expect((await flows.findOrCreate('open-uid', expires)).data).toEqual({ slots: { kept: true } });
  });

  it('hands a finished login over once: 50 racing claims, and a request that read it after the winner', async () => {
    const flows = loginFlowRepository(t.database.db);
    const flow = await flows.findOrCreate('handover-uid', new Date(Date.now() + 60_000));
    const wins = await Promise.all(Array.from({ length: 50 }, () => flows.claimHandover({ ...flow, passed: ['password'] })));
    expect(wins.filter((w) => w.claimed)).toHaveLength(1);
    // A page loaded after the winner saved sees the newest version, and the mark on it.
    const reread = (await flows.find('handover-uid'))!;
    expect(reread.handingOver).toBe(true);
    expect(await flows.claimHandover(reread)).toEqual({ claimed: false, ended: false });
    // The provider failed: the winner takes the mark back, and a reload may finish the login.
    await flows.releaseHandover('handover-uid');
    const retry = (await flows.find('handover-uid'))!;
    expect(retry.handingOver).toBe(false);
    expect((await flows.claimHandover(retry)).claimed).toBe(true);
    // A winner that died holds the login only for the lease.
    const stale = (await flows.find('handover-uid'))!;
    await t.database.db.updateTable('login_flows').set({ handover_at: sql`now() - interval '31 seconds'` as never }).where('uid', '=', 'handover-uid').execute();
    expect((await flows.find('handover-uid'))!.handingOver).toBe(false);
    expect((await flows.claimHandover(stale)).claimed).toBe(true);
  });

  it('creates no code for a login whose flow a racing request has just ended', async () => {
    const otp = otpChallengeRepository(t.database.db);
    const accountId = owners.get('+447400141414')!;
    const challenge = { flowUid: 'ended-uid', accountId, destination: '+447400141414', codeHmac: 'x', expiresAt: new Date(Date.now() + 60_000), lastSentAt: new Date() };
    expect(await otp.create(challenge)).toBeUndefined();
    expect(await otp.find('ended-uid')).toBeUndefined();
  });

  it('two passwords raced in one login never mix one account with another\'s code', async () => {
    for (let round = 0; round < 4; round++) {
      clock.advance(3600);
      const attempt = await startLogin(rp);
      const page = pageOf(attempt.visit);
      const results = await Promise.all([
        submitPassword(attempt.browser, page, 'attacker', 'attackers-long-password'),
        submitPassword(attempt.browser, page, 'victim', 'victims-long-password'),
      ]);
      const codePage = results.map((r) => r.page).find((p) => p?.html.includes('one-time-code')) ?? pageOf(await attempt.browser.visit(page.url));
      const to = sms.sent.at(-1)!.to;
      const done = await submitStep(attempt.browser, codePage, 'sms-otp', { code: sms.lastCode(to) });
      const tokens = await exchange(rp, attempt, callbackOf(done));
      // Whoever won, the tokens are for the owner of the phone that got the code.
      expect(tokens.claims()!.sub).toBe(owners.get(to));
    }
  });

  it('keeps the progress when the provider fails to take the finished login, so a reload finishes it', async () => {
    clock.advance(3600);
    const { attempt, next } = await toSecondStep(rp, 'amy', 'amys-long-password');
    const page = pageOf(next);
    const code = sms.lastCode('+447400171717');
    // A real database fault: the provider cannot save the interaction's result, once.
    const db = t.database.db;
    await sql`create function refuse_login_result() returns trigger language plpgsql as $$
      begin
        if new.model = 'Interaction' and new.payload::text like '%"result"%' then raise exception 'disk full'; end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger refuse_login_result before insert or update on oidc_payloads for each row execute function refuse_login_result()`.execute(db);
    let failed;
    try {
      failed = await submitStep(attempt.browser, page, 'sms-otp', { code });
    } finally {
      await sql`drop trigger refuse_login_result on oidc_payloads`.execute(db);
      await sql`drop function refuse_login_result()`.execute(db);
    }
    expect(failed.page?.status).toBe(500);
    // The code was used; the reload must not ask for the password or a code again.
    const reload = await attempt.browser.visit(page.url);
    const tokens = await exchange(rp, attempt, callbackOf(reload));
    expect(tokens.claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('does not finish a login whose account was signed out everywhere while it was being handed over', async () => {
    clock.advance(3600);
    const { attempt, next } = await toSecondStep(rp, 'amy', 'amys-long-password');
    const page = pageOf(next);
    const uid = new URL(page.url).pathname.split('/')[2]!;
    // The operator's revocation lands just as the provider records the login: it deletes the flow.
    const db = t.database.db;
    await sql`create function revoke_during_handover() returns trigger language plpgsql as $$
      begin
        if new.model = 'Interaction' and new.payload::text like '%"login":{"accountId"%' then delete from login_flows where uid = new.id; end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger revoke_during_handover after insert or update on oidc_payloads for each row execute function revoke_during_handover()`.execute(db);
    let done;
    try {
      done = await submitStep(attempt.browser, page, 'sms-otp', { code: sms.lastCode('+447400171717') });
    } finally {
      await sql`drop trigger revoke_during_handover on oidc_payloads`.execute(db);
      await sql`drop function revoke_during_handover()`.execute(db);
    }
    expect(new URL(callbackOf(done)).searchParams.get('error')).toBe('access_denied');
    const completed = await db.selectFrom('auth_events').select('id').where('flow_uid', '=', uid).where('event', '=', 'login.completed').execute();
    expect(completed).toHaveLength(0);
  });

  it('sends one SMS for many simultaneous resends', async () => {
    for (let round = 0; round < 3; round++) {
      clock.advance(3600);
      const { attempt, next } = await toSecondStep(rp, 'victim', 'victims-long-password');
      const before = sms.to('+447400141414').length;
      clock.advance(30);
      await Promise.all(Array.from({ length: 6 }, () => submitStep(attempt.browser, pageOf(next), 'sms-otp', { action: 'resend' })));
      expect(sms.to('+447400141414').length - before).toBe(1);
    }
  });

  it('keeps simultaneous logins within the account\'s SMS budget', async () => {
    clock.advance(7200);
    const attempts = await Promise.all(Array.from({ length: 4 }, () => startLogin(rp)));
    const first = await Promise.all(attempts.map((a) => submitPassword(a.browser, pageOf(a.visit), 'zed', 'zeds-long-password')));
    const more = await Promise.all(Array.from({ length: 4 }, async () => {
      const a = await startLogin(rp);
      return submitPassword(a.browser, pageOf(a.visit), 'zed', 'zeds-long-password');
    }));
    // The budget (userSendLimit 4) went to the first four; the next four reach the code page without a code, and are told why.
    for (const visit of first) {
      expect(pageOf(visit).html).toContain('We sent a code by text message to');
      expect(alertText(pageOf(visit).html)).toBeUndefined();
    }
    const spent = new RegExp(`^${smsCodeMessages.SEND_LIMIT.split('{minutes')[0]}\\d+ minutes?`);
    for (const visit of more) {
      expect(pageOf(visit).html).toContain('No code has been sent yet to');
      expect(alertText(pageOf(visit).html)).toMatch(spent);
    }
    expect(sms.to('+447400161616')).toHaveLength(4);
    const counted = await t.database.db.selectFrom('sms_messages').select(['status']).where('destination', '=', '+44 •••• ••16 16').execute();
    expect(counted.map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });

  it('revokes what the winner got when two token requests race with one code', async () => {
    const attempt = await startLogin(rp);
    clock.advance(3600);
    const codePage = pageOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'attacker', 'attackers-long-password'));
    const callback = callbackOf(await submitStep(attempt.browser, codePage, 'sms-otp', { code: sms.lastCode('+447400151515') }));
    const { won, lost } = await burstWinners(2, () => exchange(rp, attempt, callback));
    expect(won).toHaveLength(1);
    expect(lost).toEqual([expect.objectContaining({ error: 'invalid_grant' })]);
    // The replay revoked what the winner got.
    const [tokens] = won;
    await expect(oidc.fetchUserInfo(rp.config, tokens!.access_token, tokens!.claims()!.sub)).rejects.toMatchObject({ status: 401 });
  });
});
