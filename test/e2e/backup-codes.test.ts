import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueBackupCodes } from '../../src/login/factors/backup-code/codes.ts';
import { backupCodeRepository } from '../../src/repositories/backup-codes.ts';
import { cryptoRandom } from '../../src/shared/random.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, formAction, hiddenValue } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';

describe('backup codes', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let codes: string[];
  const sms = new RecordingSender();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, overrides: { smsOtp: { userSendLimit: 100 } } });
    const id = await t.addUser('pat', 'pats-long-password', '+447400555555');
    codes = await issueBackupCodes(backupCodeRepository(t.database.db), t.hasher, cryptoRandom, id);
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  async function toBackupPage() {
    const { attempt, next } = await toSecondStep(rp, 'pat', 'pats-long-password');
    const page = pageOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { action: 'backup' }));
    expect(page.html).toContain('Backup code');
    return { attempt, page };
  }

  it('are 10 codes of 50 bits, stored only as salted hashes', async () => {
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$/);
    expect(new Set(codes).size).toBe(10);
    const rows = await t.database.db.selectFrom('backup_codes').select('code_hash').execute();
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row.code_hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(rows)).not.toContain(codes[0]!.replace('-', ''));
  });

  it('log in once instead of the SMS code, say how many are left, and are recorded as such', async () => {
    const { attempt, page } = await toBackupPage();
    const notice = pageOf(await submitStep(attempt.browser, page, 'backup-code', { code: codes[0]!.toLowerCase().replace('-', ' ') }));
    expect(alertText(notice.html)).toBe('Backup code accepted. You have 9 unused backup codes left.');
    const done = await attempt.browser.submit(new URL(formAction(notice.html), notice.url).toString(), { _csrf: hiddenValue(notice.html, '_csrf') });
    const claims = (await exchange(rp, attempt, callbackOf(done))).claims()!;
    expect(claims.amr).toEqual(['pwd', 'mfa']);
    expect(claims.acr).toBe('urn:keystep:acr:mfa');
    const events = await t.database.db.selectFrom('auth_events').select(['event', 'result']).where('event', '=', 'login.backup_code').execute();
    expect(events).toEqual([{ event: 'login.backup_code', result: 'success' }]);
  });

  it('refuse a code that was used, and count it as a wrong code', async () => {
    const { attempt, page } = await toBackupPage();
    const again = pageOf(await submitStep(attempt.browser, page, 'backup-code', { code: codes[0]! }));
    expect(alertText(again.html)).toBe('That backup code is not right, or it was already used.');
    const account = await t.database.db.selectFrom('accounts').select('failed_otp_count').where('username', '=', 'pat').executeTakeFirstOrThrow();
    expect(account.failed_otp_count).toBe(1);
    const junk = pageOf(await submitStep(attempt.browser, again, 'backup-code', { code: 'not a code' }));
    expect(alertText(junk.html)).toMatch(/not right/);
    // Back to the SMS code.
    const smsPage = pageOf(await submitStep(attempt.browser, junk, 'backup-code', { action: 'sms' }));
    expect(smsPage.html).toContain('autocomplete="one-time-code"');
    await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, smsPage, 'sms-otp', { code: sms.lastCode('+447400555555') })));
  });

  it('let one of two logins racing with one code through', async () => {
    const one = await toBackupPage();
    const two = await toBackupPage();
    const results = await Promise.all([
      submitStep(one.attempt.browser, one.page, 'backup-code', { code: codes[1]! }),
      submitStep(two.attempt.browser, two.page, 'backup-code', { code: codes[1]! }),
    ]);
    const accepted = results.filter((r) => r.page && alertText(r.page.html)?.startsWith('Backup code accepted'));
    expect(accepted).toHaveLength(1);
  });

  it('stop working when a new set is issued', async () => {
    const id = (await t.database.db.selectFrom('accounts').select('id').where('username', '=', 'pat').executeTakeFirstOrThrow()).id;
    const fresh = await issueBackupCodes(backupCodeRepository(t.database.db), t.hasher, cryptoRandom, id);
    const { attempt, page } = await toBackupPage();
    const old = pageOf(await submitStep(attempt.browser, page, 'backup-code', { code: codes[2]! }));
    expect(alertText(old.html)).toMatch(/not right/);
    const ok = pageOf(await submitStep(attempt.browser, old, 'backup-code', { code: fresh[0]! }));
    expect(alertText(ok.html)).toMatch(/9 unused backup codes left/);
  });
});

describe('backup codes switched off', () => {
  it('are not offered and cannot be chosen', async () => {
    const sms = new RecordingSender();
    const t = await startTestApp({ smsSender: sms, overrides: { smsOtp: { backupCode: false } } });
    try {
      await t.addUser('quinn', 'quinns-long-password', '+447400666666');
      const rp = await relyingParty(t, await t.addClient('web-app'));
      const { attempt, next } = await toSecondStep(rp, 'quinn', 'quinns-long-password');
      const page = pageOf(next);
      expect(page.html).not.toContain('backup code');
      const refused = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'backup' }));
      expect(refused.html).toContain('autocomplete="one-time-code"');
    } finally {
      await t.close();
    }
  });
});
