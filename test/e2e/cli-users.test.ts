import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { offlineSignIn, relyingParty, TOKEN_REFUSED, type RelyingParty } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';

const PASSWORD = 'a-long-enough-password';

describe('keystep user show, list and delete', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let rp: RelyingParty;
  const sms = new RecordingSender();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms });
    env = { DATABASE_URL: t.database.url };
    rp = await relyingParty(t, await t.addClient('shop'));
    await t.addUser('erin', PASSWORD, '+447400123456');
    await t.addUser('frank', PASSWORD);
    await t.addUser('grace_100%', PASSWORD, '+447400654321');
    expect((await runCli(['user', 'disable', 'grace_100%'], env)).code).toBe(0);
  });
  afterAll(() => t.close());

  const list = async (...filters: string[]) => {
    const result = await runCli(['user', 'list', '--json', ...filters], env);
    expect(result.code).toBe(0);
    return (JSON.parse(result.stdout) as { username: string }[]).map((u) => u.username);
  };

  it('lists users by part of the name, disabled, locked, without a number, or with a factor', async () => {
    expect((await runCli(['user', 'backup-codes', 'erin'], env)).code).toBe(0);
    expect(await list()).toEqual(['erin', 'frank', 'grace_100%']);
    expect(await list('--search', 'RI')).toEqual(['erin']);
    // A % is a character like any other, not a pattern.
    expect(await list('--search', '%')).toEqual(['grace_100%']);
    expect(await list('--disabled')).toEqual(['grace_100%']);
    expect(await list('--no-phone')).toEqual(['frank']);
    expect(await list('--factor', 'sms-otp')).toEqual([]);
    expect(await list('--locked')).toEqual([]);
    expect(await list('--search', 'a', '--no-phone')).toEqual(['frank']);
    expect((await runCli(['user', 'list', '--search', 'zzz'], env)).stdout).toBe('no users\n');
  });

  it('shows a user with masked number, factors, sessions and last sign-in, never a secret', async () => {
    await offlineSignIn(rp, sms, 'erin', PASSWORD, '+447400123456');
    const shown = await runCli(['user', 'show', 'ERIN', '--json'], env);
    expect(shown.code).toBe(0);
    const details = JSON.parse(shown.stdout);
    expect(details).toMatchObject({
      username: 'erin', status: 'active', phone: '+44 •••• ••34 56', sms_otp_exempt: false, sessions: 1, grants: 1, backup_codes_left: 10, passkeys: 0,
      last_sign_in: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      factors: [expect.objectContaining({ id: 'sms-otp', last_used: expect.any(String) })],
    });
    expect(await list('--factor', 'sms-otp')).toEqual(['erin']);
    expect(shown.stdout).not.toMatch(/7400123456|argon2/);
    const text = await runCli(['user', 'show', 'erin'], env);
    expect(text.stdout).toMatch(/^status: {13}active$/m);
    expect(text.stdout).toMatch(/^ {2}sms-otp {5}added /m);
    expect(await runCli(['user', 'show', 'nobody'], env)).toEqual({ code: 3, stdout: '', stderr: 'keystep: no user named nobody\n' });
  });

  it('deletes a user with everything that was theirs, in one go, only when confirmed', async () => {
    const { tokens } = await offlineSignIn(rp, sms, 'erin', PASSWORD, '+447400123456');
    const accountId = tokens.claims()!.sub;
    expect((await oidc.fetchUserInfo(rp.config, tokens.access_token, accountId)).sub).toBe(accountId);

    expect(await runCli(['user', 'delete', 'erin'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot be undone: run it again with --yes/) });
    expect(await list()).toContain('erin');

    const deleted = await runCli(['user', 'delete', 'erin', '--yes'], env);
    expect(deleted).toMatchObject({ code: 0, stdout: expect.stringMatching(/^deleted user erin: ended 2 session\(s\), 2 grant\(s\), \d+ token\(s\)/) });
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, accountId)).rejects.toMatchObject(TOKEN_REFUSED);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const db = t.database.db;
    for (const table of ['account_factors', 'backup_codes', 'login_flows', 'oidc_payloads'] as const) {
      expect({ table, rows: (await db.selectFrom(table).select('account_id').where('account_id', '=', accountId).execute()).length }).toEqual({ table, rows: 0 });
    }
    expect(await list()).toEqual(['frank', 'grace_100%']);
    const event = await db.selectFrom('auth_events').select(['account_id', 'detail']).where('event', '=', 'user.deleted').executeTakeFirstOrThrow();
    expect(event).toEqual({ account_id: null, detail: expect.objectContaining({ accountId, sessions: 2 }) });
    expect(await runCli(['user', 'delete', 'erin', '--yes'], env)).toMatchObject({ code: 3, stderr: 'keystep: no user named erin\n' });
  });

  it('shows an account of another domain by its full name, as the list does', async () => {
    await t.addUser('partners/frank', PASSWORD);
    expect(JSON.parse((await runCli(['user', 'show', 'partners/frank', '--json'], env)).stdout)).toMatchObject({ username: 'partners/frank' });
    expect((await runCli(['user', 'show', 'partners/frank'], env)).stdout).toMatch(/^username: +partners\/frank$/m);
    expect(JSON.parse((await runCli(['user', 'show', 'frank', '--json'], env)).stdout)).toMatchObject({ username: 'frank' });
    expect((await list('--search', 'frank')).sort()).toEqual(['frank', 'partners/frank']);
  });
});
