import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smsCodeMessages } from '../../src/login/sms-codes/messages.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { callbackOf, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock } from '../support/sms.ts';

// Three numbers of one range (+44740055••••) and one of another.
const RANGE = ['+447400550001', '+447400550002', '+447400550003'];
const REAL = '+447400660001';

describe('the pumping breaker in logins', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let env: Record<string, string>;
  const sms = new RecordingSender();
  const clock = new TestClock(Date.UTC(2026, 11, 3, 9));

  beforeAll(async () => {
    t = await startTestApp({
      smsSender: sms, clock, random: distinctCodes(),
      overrides: { sms: { pumping: { prefixMinSent: 3, countryMinSent: 1_000_000, graceSeconds: 60, threshold: 0.5 } } },
    });
    for (const [i, phone] of RANGE.entries()) await t.addUser(`pump-${i}`, 'pumps-long-password', phone);
    await t.addUser('real', 'reals-long-password', REAL);
    rp = await relyingParty(t, await t.addClient('web-app'));
    env = { DATABASE_URL: t.database.url };
  });
  afterAll(() => t.close());

  it('counts an entered code, pauses a range whose codes are not entered, tells its users, and resumes by command', async () => {
    // A real user enters the code: the send is marked as converted.
    const real = await toSecondStep(rp, 'real', 'reals-long-password');
    callbackOf(await submitStep(real.attempt.browser, pageOf(real.next), 'sms-otp', { code: sms.lastCode(REAL) }));
    const marked = await t.database.db.selectFrom('sms_messages').select(['prefix', 'entered_at']).execute();
    expect(marked).toEqual([{ prefix: '+44740066', entered_at: expect.any(Date) }]);

    // Three codes to the range, none entered.
    for (let i = 0; i < 3; i++) await toSecondStep(rp, `pump-${i}`, 'pumps-long-password');
    expect(sms.sent).toHaveLength(4);
    clock.advance(61);
    const paused = await toSecondStep(rp, 'pump-0', 'pumps-long-password');
    expect(alertText(pageOf(paused.next).html)).toBe(smsCodeMessages.SMS_RANGE_PAUSED);
    // The user is not stranded: the page offers the backup code.
    expect(pageOf(paused.next).html).toContain('name="action" value="backup"');
    expect(sms.sent).toHaveLength(4);
    const warning = t.logLines.find((l) => l.includes('sms pumping suspected'));
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, scope: 'prefix', range: '+44740055••••', sent: 3, entered: 0, ratio: 0 });
    for (const phone of [...RANGE, REAL]) expect(t.logLines.join('')).not.toContain(phone.slice(1));
    // The other range is not paused: the real user still gets codes.
    await toSecondStep(rp, 'real', 'reals-long-password');
    expect(sms.sent).toHaveLength(5);

    const status = await runCli(['abuse', 'status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { paused: unknown[]; top: { prefixes: unknown[]; accounts: unknown[]; addresses: unknown[] }; budgets: { hour: { sent: number } } };
    expect(report.paused).toEqual([expect.objectContaining({ scope: 'prefix', range: '+44740055••••', reason: 'automatic', sent: 3, entered: 0, ratio: 0 })]);
    expect(report.top.prefixes).toEqual([{ key: '+44740055••••', sent: 3, entered: 0, ratio: 0 }, { key: '+44740066••••', sent: 2, entered: 1, ratio: 0.5 }]);
    expect(report.top.accounts).toContainEqual({ key: 'real', sent: 2, entered: 1, ratio: 0.5 });
    expect(report.top.addresses).toEqual([{ key: '127.0.0.1', sent: 5, entered: 1, ratio: 0.2 }]);
    expect(report.budgets.hour.sent).toBe(5);
    for (const phone of [...RANGE, REAL]) expect(status.stdout).not.toContain(phone.slice(1));
    const table = await runCli(['abuse', 'status'], env);
    expect(table.stdout).toMatch(/Paused \(`keystep abuse resume <range>` lifts a pause\)/);
    expect(table.stdout).toContain('+44740055••••');

    expect(await runCli(['abuse', 'resume', '+44 7400 55'], env)).toMatchObject({ code: 0, stdout: 'resumed prefix +44740055\n' });
    expect(await runCli(['abuse', 'resume', '+44740055'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/is not paused/) });
    await toSecondStep(rp, 'pump-1', 'pumps-long-password');
    expect(sms.sent).toHaveLength(6);

    // A pause by hand, of a whole country.
    expect(await runCli(['abuse', 'pause', 'gb'], env)).toMatchObject({ code: 0, stdout: 'paused country GB\n' });
    const country = await toSecondStep(rp, 'real', 'reals-long-password');
    expect(alertText(pageOf(country.next).html)).toBe(smsCodeMessages.SMS_RANGE_PAUSED);
    expect(sms.sent).toHaveLength(6);
    expect(await runCli(['abuse', 'pause', 'not a range'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/give a country code like GB/) });

    // A pause is matched by a number's range (all that is kept of it): one longer than any range
    // would cover no number, so it is refused rather than reported as paused.
    expect(await runCli(['abuse', 'resume', 'GB'], env)).toMatchObject({ code: 0 });
    expect(await runCli(['abuse', 'pause', '+447400550'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/give at most \+44740055\b/) });
    expect(await runCli(['abuse', 'pause', '+44740055'], env)).toMatchObject({ code: 0, stdout: 'paused prefix +44740055\n' });
    const byHand = await toSecondStep(rp, 'pump-2', 'pumps-long-password');
    expect(alertText(pageOf(byHand.next).html)).toBe(smsCodeMessages.SMS_RANGE_PAUSED);
    expect(sms.sent).toHaveLength(6);
  });
});
