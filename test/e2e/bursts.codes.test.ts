import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBackupCode, generateBackupCodes } from '../../src/login/factors/backup-code/codes.ts';
import { backupCodeRepository } from '../../src/repositories/backup-codes.ts';
import { cryptoRandom } from '../../src/shared/random.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { burst, countEvents, countingHasher } from '../support/bursts.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock, wrongCode } from '../support/sms.ts';

/** Bursts of simultaneous codes: each cap on guesses holds exactly, and one right code finishes one login. */
describe('code limits under a burst', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();
  const hasher = countingHasher();
  const phones = { cal: '+447400181818', dee: '+447400191919', eve: '+447400202020', fay: '+447400212121' };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp({
      smsSender: sms, clock, hasher, random: distinctCodes(),
      overrides: { smsOtp: { maxAttempts: 5, lockoutThreshold: 10, userSendLimit: 1000, maxResends: 10 } },
    });
    for (const [name, phone] of Object.entries(phones)) ids[name] = await t.addUser(name, `${name}s-long-password`, phone);
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  const failedOtps = async (name: string) =>
    (await t.database.db.selectFrom('accounts').select(['failed_otp_count', 'otp_locked_until']).where('id', '=', ids[name]!).executeTakeFirstOrThrow());

  // Logins are opened one after another: simultaneous right passwords for one username are held
  // back by the password throttle too (each counts as a guess until its hash says otherwise).
  async function sequentially<T>(count: number, open: () => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(await open());
    return out;
  }

  async function atCodePage(name: keyof typeof phones) {
    const { attempt, next } = await toSecondStep(rp, name, `${name}s-long-password`);
    return { attempt, page: pageOf(next), code: sms.lastCode(phones[name]) };
  }

  it('compares exactly maxAttempts of 60 simultaneous wrong codes for one code, and the right one after is refused', async () => {
    const { attempt, page, code } = await atCodePage('cal');
    await burst(60, () => submitStep(attempt.browser, page, 'sms-otp', { code: wrongCode(code) }));
    expect((await failedOtps('cal')).failed_otp_count).toBe(5);
    expect(await countEvents(t.database.db, 'login.sms_otp', 'wrong_code')).toBe(5);
    expect(await countEvents(t.database.db, 'login.sms_otp', 'code_dead')).toBe(55);
    const after = await submitStep(attempt.browser, page, 'sms-otp', { code });
    expect(alertText(pageOf(after).html)).toMatch(/can no longer be used/);
  });

  it('compares exactly lockoutThreshold of 60 simultaneous wrong codes across 12 logins of one account, then holds the lock', async () => {
    const logins = await sequentially(12, () => atCodePage('dee'));
    const before = await countEvents(t.database.db, 'login.sms_otp', 'wrong_code');
    await burst(60, (i) => {
      const login = logins[i % logins.length]!;
      return submitStep(login.attempt.browser, login.page, 'sms-otp', { code: wrongCode(login.code) });
    });
    expect(await countEvents(t.database.db, 'login.sms_otp', 'wrong_code') - before).toBe(10);
    const account = await failedOtps('dee');
    expect(account.failed_otp_count).toBe(10);
    expect(account.otp_locked_until!.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(await countEvents(t.database.db, 'account.locked')).toBe(1);
    // The right code of a login that made no wrong guess is refused while the lock holds.
    const fresh = await atCodePage('dee');
    const after = await submitStep(fresh.attempt.browser, fresh.page, 'sms-otp', { code: fresh.code });
    expect(after.callback).toBeUndefined();
    expect(alertText(pageOf(after).html)).toMatch(/locked/);
  });

  it('counts afresh once the lock has run out: one wrong code then does not lock again', async () => {
    clock.advance(901);
    const login = await atCodePage('dee');
    const wrong = pageOf(await submitStep(login.attempt.browser, login.page, 'sms-otp', { code: wrongCode(login.code) }));
    expect(alertText(wrong.html)).toBe('That code is not right. 4 tries left for this code.');
    expect((await failedOtps('dee')).failed_otp_count).toBe(1);
    await exchange(rp, login.attempt, callbackOf(await submitStep(login.attempt.browser, wrong, 'sms-otp', { code: login.code })));
  });

  it('lets one backup code finish exactly one of 50 simultaneous logins, and wrong ones meet the same lock', async () => {
    // Two codes, so that each comparison costs two hashes rather than ten.
    const codes = generateBackupCodes(cryptoRandom, 2);
    await backupCodeRepository(t.database.db).replaceAll(ids.eve!, await Promise.all(codes.map((c) => t.hasher.hash(canonicalBackupCode(c)!))));
    const logins = await sequentially(50, async () => {
      const { attempt, page } = await atCodePage('eve');
      return { attempt, page: pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'backup' })) };
    });
    const results = await burst(50, (i) => submitStep(logins[i]!.attempt.browser, logins[i]!.page, 'backup-code', { code: codes[0]! }));
    // The winner is told how many codes are left, before going on to the app.
    const accepted = results.filter((r) => r.page && alertText(r.page.html)?.startsWith('Backup code accepted'));
    expect(accepted).toHaveLength(1);
    expect(results.filter((r) => r.callback !== undefined)).toHaveLength(0);
    const used = await t.database.db.selectFrom('backup_codes').select('used_at').where('account_id', '=', ids.eve!).where('used_at', 'is not', null).execute();
    expect(used).toHaveLength(1);

    // Wrong backup codes: 60 at once across the other logins compare exactly lockoutThreshold times
    // (each comparison checks the hash of every unused code).
    await t.database.db.updateTable('accounts').set({ failed_otp_count: 0, otp_locked_until: null }).where('id', '=', ids.eve!).execute();
    const checkedBefore = hasher.checked;
    const unused = codes.length - 1;
    await burst(60, (i) => {
      const login = logins[i % logins.length]!;
      return submitStep(login.attempt.browser, login.page, 'backup-code', { code: 'AAAAA-AAAAA' });
    });
    expect(hasher.checked - checkedBefore).toBe(10 * unused);
    expect((await failedOtps('eve')).failed_otp_count).toBe(10);
  });

  it('hands over one login once when 100 submissions of its right code and 20 reloads race', async () => {
    const { attempt, page, code } = await atCodePage('fay');
    const completedBefore = await countEvents(t.database.db, 'login.completed');
    const posts = burst(100, () => submitStep(attempt.browser, page, 'sms-otp', { code }));
    const reloads = burst(20, () => attempt.browser.visit(page.url));
    const visits = [...(await posts), ...(await reloads)];
    const callbacks = new Set(visits.flatMap((v) => (v.callback ? [new URL(v.callback).searchParams.get('code')] : [])));
    expect(callbacks.size).toBe(1);
    expect(await countEvents(t.database.db, 'login.completed') - completedBefore).toBe(1);
    const issued = await t.database.db.selectFrom('oidc_payloads').select('payload').where('model', '=', 'AuthorizationCode').execute();
    expect(issued.filter((r) => r.payload.accountId === ids.fay)).toHaveLength(1);
    const callback = visits.find((v) => v.callback)!.callback!;
    expect((await exchange(rp, attempt, callback)).claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
  });
});
