import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { retentionSeconds } from '../../src/config/retention.ts';
import { smsMessageRepository } from '../../src/repositories/sms-messages.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { pageOf, relyingParty, startLogin, submitPassword } from '../support/rp.ts';

const DAY = 86_400_000;

describe('audit retention, export and lines for a log shipper', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let erin: string;
  let frank: string;
  // The sweep's clock: the rows below are dated from it.
  const now = new Date(Date.UTC(2027, 0, 15, 12));

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => now }, overrides: { audit: { stdout: true, retentionDays: 30, smsRetentionDays: 7 } } });
    env = { DATABASE_URL: t.database.url };
    erin = await t.addUser('erin', 'erins-long-password');
    frank = await t.addUser('frank', 'franks-long-password');
  });
  afterAll(() => t.close());

  const ago = (days: number) => new Date(now.getTime() - days * DAY);

  it('prunes audit events and SMS rows past their retention, and keeps the rows the SMS budgets count', async () => {
    const db = t.database.db;
    await db.insertInto('auth_events').values([
      { at: ago(31), event: 'test.old', result: 'info', account_id: erin },
      { at: ago(29), event: 'test.kept', result: 'info', account_id: erin },
    ]).execute();
    // The user's budget: 10 SMS an hour (smsOtp.userSendLimit), all spent half an hour ago.
    const spent = Array.from({ length: 10 }, () => ({ at: new Date(now.getTime() - 1_800_000), account_id: frank, purpose: 'otp', destination: '+44 •••• ••00 01', status: 'sent' }));
    await db.insertInto('sms_messages').values([
      { at: ago(8), account_id: frank, purpose: 'otp', destination: '+44 •••• ••00 02', status: 'sent' },
      { at: ago(6), account_id: frank, purpose: 'otp', destination: '+44 •••• ••00 03', status: 'failed' },
      ...spent,
    ]).execute();

    await t.app.sweep();

    const events = await db.selectFrom('auth_events').select('event').where('event', 'like', 'test.%').execute();
    expect(events.map((e) => e.event)).toEqual(['test.kept']);
    const sms = await db.selectFrom('sms_messages').select('destination').where('account_id', '=', frank).execute();
    expect(sms.map((r) => r.destination).sort()).toEqual([...Array(10).fill('+44 •••• ••00 01'), '+44 •••• ••00 03']);
    const window = (limit: number) => ({ since: new Date(now.getTime() - 3_600_000), limit });
    const reservation = await smsMessageRepository(db).reserve({
      accountId: frank, flowUid: 'test-flow', destination: '+44 •••• ••00 01', ip: null, at: now, numberKey: 'test-number', prefix: '+44740000', country: 'GB',
      budgets: { account: window(10), address: window(1000), hour: window(1000) },
      backoff: { since: now, after: 100, minSeconds: 1, maxSeconds: 1, jitter: 0 },
      breaker: { enabled: false, since: now, until: now, prefixMinSent: 1, countryMinSent: 1, threshold: 0 },
    });
    expect(reservation).toMatchObject({ refused: 'account' });
    expect(t.logLines.join('')).not.toMatch(/sweep of expired rows failed|left for the next sweep/);
  });

  it('never keeps the SMS log for less than the longest budget window', () => {
    const config = loadConfig({}, { audit: { smsRetentionDays: 1 } });
    expect(retentionSeconds(config)).toEqual({ authEvents: 90 * 86_400, smsMessages: 86_400 });
    // Longer than any window the settings allow today: a budget window added later must still hold.
    const longer = { ...config, sms: { ...config.sms, velocityWindowSeconds: 3 * 86_400 } };
    expect(retentionSeconds(longer).smsMessages).toBe(3 * 86_400);
    expect(retentionSeconds(loadConfig({}, {})).smsMessages).toBe(90 * 86_400);
  });

  it('exports events as JSON lines, oldest first, by time and by account, across many pages', async () => {
    const db = t.database.db;
    await db.deleteFrom('auth_events').execute();
    const base = Date.UTC(2026, 10, 1);
    // More than two pages of the export, alternating between the two users.
    await db.insertInto('auth_events').values(Array.from({ length: 2500 }, (_, i) => ({
      at: new Date(base + i * 60_000), event: 'test.numbered', result: 'info', account_id: i % 2 ? frank : erin, detail: JSON.stringify({ i }),
    }))).execute();

    const all = await runCli(['audit', 'export'], env);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.detail.i)).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect(lines[1]).toEqual(expect.objectContaining({ event: 'test.numbered', result: 'info', account_id: frank, username: 'frank', at: new Date(base + 60_000).toISOString() }));

    const since = new Date(base + 100 * 60_000).toISOString();
    const until = new Date(base + 110 * 60_000).toISOString();
    const frankOnly = await runCli(['audit', 'export', '--since', since, '--until', until, '--account', 'FRANK'], env);
    expect(frankOnly.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).detail.i)).toEqual([101, 103, 105, 107, 109]);
    expect((await runCli(['audit', 'export', '--since', '2026-11-02'], env)).stdout.trimEnd().split('\n')).toHaveLength(2500 - 1440);
    expect(await runCli(['audit', 'export', '--since', '1d'], env)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('stops without a stack trace when the reader goes away (audit export | head)', async () => {
    const db = t.database.db;
    await db.deleteFrom('auth_events').execute();
    await db.insertInto('auth_events').values(Array.from({ length: 5000 }, (_, i) => ({ event: 'test.piped', result: 'info', detail: JSON.stringify({ i, pad: 'x'.repeat(200) }) }))).execute();
    const child = spawn(process.execPath, [path.resolve('bin/keystep.js'), 'audit', 'export'], {
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // The reader takes the first line and leaves, as head -1 does.
    child.stdout.once('data', () => child.stdout.destroy());
    const [code, signal] = await once(child, 'close') as [number | null, string | null];
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('names an account of another domain as domain/username, so that two accounts of one name stay apart', async () => {
    const db = t.database.db;
    await db.deleteFrom('auth_events').execute();
    const partner = await t.addUser('partners/erin', 'partner-erins-password');
    await db.insertInto('auth_events').values([erin, partner].map((account_id) => ({ event: 'test.named', result: 'info', account_id, detail: '{}' }))).execute();
    const lines = (await runCli(['audit', 'export'], env)).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.account_id, l.username])).toEqual([[erin, 'erin'], [partner, 'partners/erin']]);
    expect((await runCli(['audit', 'export', '--account', 'partners/erin'], env)).stdout).toContain('"username":"partners/erin"');
  });

  it('refuses a malformed time with status 2 and an unknown user with status 3', async () => {
    expect(await runCli(['audit', 'export', '--since', 'yesterday'], env)).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^keystep: --since is an ISO 8601 date/) });
    expect(await runCli(['audit', 'export', '--since', '2026-12-02', '--until', '2026-12-01'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--since must be before --until/) });
    // A day or time that does not exist is a mistake, not the day after (30 February is not 2 March).
    for (const time of ['2026-02-30', '2026-02-29', '2026-13-01', '2026-12-01T24:00:00Z', '2026-12-01T10:60Z', '2026-12-01T10:00:60Z', '2026-12-01T10:00:00+24:00']) {
      expect({ time, ...(await runCli(['audit', 'export', '--since', time], env)) }).toMatchObject({ time, code: 2, stdout: '', stderr: expect.stringMatching(/^keystep: --since is an ISO 8601 date/) });
    }
    expect((await runCli(['audit', 'export', '--since', '2028-02-29T23:59:59.999+01:00'], env)).code).toBe(0);
    expect(await runCli(['audit', 'export', '--account', 'nobody'], env)).toMatchObject({ code: 3, stderr: 'keystep: no user named nobody\n' });
    expect(await runCli(['audit', 'export', '--bogus'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown option/) });
  });

  it('writes each audit event as a JSON line among the logs when asked, without the password', async () => {
    const { clientId, clientSecret, redirectUri } = await t.addClient('shop');
    const rp = await relyingParty(t, { clientId, clientSecret, redirectUri });
    const attempt = await startLogin(rp);
    t.logLines.length = 0;
    await submitPassword(attempt.browser, pageOf(attempt.visit), 'erin', 'not-erins-password');
    const audit = t.logLines.map((l) => JSON.parse(l)).filter((l) => l.audit === true);
    expect(audit).toEqual([expect.objectContaining({ level: 30, msg: 'audit event', event: 'login.password', result: 'failure', accountId: erin, step: 'password' })]);
    expect(t.logLines.join('')).not.toContain('not-erins-password');
  });
});
