import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../../src/login/passwords.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { passwordFailureRepository } from '../../src/repositories/password-failures.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';

describe('the keystep command', () => {
  let t: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
    env = { DATABASE_URL: t.url };
  });
  afterAll(() => t.drop());

  it('refuses to work on a database with pending migrations and names the command to run', async () => {
    const result = await runCli(['user', 'list'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pending migration.*\n.*npx keystep migrate/);
  });

  it('migrates, shows the status, steps down and up again', async () => {
    const up = await runCli(['migrate'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/applied \d{8}T\d{6}Z_foundation/);
    expect((await runCli(['migrate'], env)).stdout).toMatch(/up to date/);
    expect((await runCli(['migrate', 'status'], env)).stdout).toMatch(/^applied {2}\d{8}T/m);
    expect(JSON.parse((await runCli(['migrate', 'status', '--json'], env)).stdout)[0]).toEqual({ name: expect.stringMatching(/_foundation$/), applied: expect.stringMatching(/^\d{4}-/) });
    expect((await runCli(['migrate', 'down'], env)).stdout).toMatch(/reverted/);
    expect((await runCli(['migrate', 'status'], env)).stdout).toMatch(/^pending {2}/m);
    expect((await runCli(['migrate'], env)).code).toBe(0);
  });

  it('adds a user with the password from stdin, never from the command line', async () => {
    const added = await runCli(['user', 'add', 'erin', '--phone', '+44 7400 123456'], env, 'erins-long-password\n');
    expect(added).toMatchObject({ code: 0, stdout: 'created user erin\n' });
    const account = await accountRepository(t.db).findByUsername('erin');
    expect(await createArgon2Hasher().verify(account!.passwordHash, 'erins-long-password')).toBe(true);
    expect(account!.phone).toBe('+447400123456');
    const list = await runCli(['user', 'list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ username: 'erin', phone: '+44 •••• ••34 56', status: 'active' })]);
    expect(list.stdout).not.toContain('7400123456');
  });

  it('refuses weak passwords, bad numbers and taken usernames with a clear message', async () => {
    expect(await runCli(['user', 'add', 'frank'], env, 'password\n')).toMatchObject({ code: 1, stderr: expect.stringMatching(/commonly used/) });
    expect(await runCli(['user', 'add', 'frank'], env, 'short\n')).toMatchObject({ code: 1, stderr: expect.stringMatching(/at least 8/) });
    expect(await runCli(['user', 'add', 'frank', '--phone', '+442071838750'], env, 'franks-long-password\n')).toMatchObject({ code: 1, stderr: expect.stringMatching(/not a mobile number/) });
    expect(await runCli(['user', 'add', 'ERIN'], env, 'another-long-password\n')).toMatchObject({ code: 1, stderr: expect.stringMatching(/taken/) });
    expect(await runCli(['user', 'add', 'frank', '--phone', '+33612345678'], { ...env, KEYSTEP_SMS_ALLOWED_COUNTRIES: 'GB,+1' }, 'franks-long-password\n')).toMatchObject({ code: 1, stderr: expect.stringMatching(/not allowed/) });
    expect(await runCli(['user', 'add', 'bad name'], env, 'another-long-password\n')).toMatchObject({ code: 1 });
    expect(await accountRepository(t.db).findByUsername('frank')).toBeUndefined();
  });

  it('hashes with Keystep\'s own argon2id parameters unless given another hasher', async () => {
    expect((await runCli(['user', 'add', 'grace'], env, 'graces-long-password\n', { hasher: null })).code).toBe(0);
    expect((await runCli(['user', 'add', 'heidi'], env, 'heidis-long-password\n')).code).toBe(0);
    const accounts = accountRepository(t.db);
    expect((await accounts.findByUsername('grace'))!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    // The other tests' cheap hasher, so the line above is not true of every hash.
    expect((await accounts.findByUsername('heidi'))!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
  });

  it('sets passwords and phones, disables, enables and unlocks', async () => {
    expect((await runCli(['user', 'set-password', 'erin'], env, 'erins-new-password\n')).code).toBe(0);
    const repo = accountRepository(t.db);
    expect(await createArgon2Hasher().verify((await repo.findByUsername('erin'))!.passwordHash, 'erins-new-password')).toBe(true);
    expect((await runCli(['user', 'set-phone', 'erin', '+14155552671'], env)).code).toBe(0);
    expect((await repo.findByUsername('erin'))!.phone).toBe('+14155552671');
    // Neither a number nor --clear: a missing argument, status 2 as the README says; nothing changes.
    expect(await runCli(['user', 'set-phone', 'erin'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/give a number in E\.164 form, or --clear/) });
    expect((await repo.findByUsername('erin'))!.phone).toBe('+14155552671');
    expect((await runCli(['user', 'disable', 'erin'], env)).code).toBe(0);
    expect((await repo.findByUsername('erin'))!.disabled).toBe(true);
    expect((await runCli(['user', 'enable', 'erin'], env)).code).toBe(0);
    const id = (await repo.findByUsername('erin'))!.id;
    const failures = passwordFailureRepository(t.db);
    await failures.reserve('erin', new Date(), { throttleAfter: 3, maxDelaySeconds: 60, lockAfter: 1, lockUntil: new Date(Date.now() + 600_000) });
    await repo.reserveOtpAttempt(id, new Date(), 1, new Date(Date.now() + 600_000));
    expect(JSON.parse((await runCli(['user', 'list', '--json'], env)).stdout)[0].status).toBe('locked');
    expect((await runCli(['user', 'unlock', 'erin'], env)).stdout).toBe('erin unlocked\n');
    expect(await failures.find('erin')).toBeUndefined();
    expect((await repo.findByUsername('erin'))!.otpLockedUntil).toBeNull();
    expect(JSON.parse((await runCli(['user', 'list', '--json'], env)).stdout)[0].status).toBe('active');
    expect(await runCli(['user', 'unlock', 'nobody'], env)).toMatchObject({ code: 3, stderr: expect.stringMatching(/no user named nobody/) });
  });

  it('prints fresh backup codes once, replacing the old ones, and sets the SMS exemption', async () => {
    const first = await runCli(['user', 'backup-codes', 'erin'], env);
    expect(first.code).toBe(0);
    const codes = first.stdout.match(/^ {2}[A-Z2-9]{5}-[A-Z2-9]{5}$/gm)!.map((c) => c.trim());
    expect(codes).toHaveLength(10);
    const second = await runCli(['user', 'backup-codes', 'erin'], env);
    const fresh = second.stdout.match(/^ {2}[A-Z2-9]{5}-[A-Z2-9]{5}$/gm)!.map((c) => c.trim());
    expect(fresh.some((c) => codes.includes(c))).toBe(false);
    const rows = await t.db.selectFrom('backup_codes').select('code_hash').execute();
    expect(rows).toHaveLength(10);
    const hasher = createArgon2Hasher();
    const matches = await Promise.all(fresh.map(async (c) => (await Promise.all(rows.map((r) => hasher.verify(r.code_hash, c.replace('-', ''))))).some(Boolean)));
    expect(matches.every(Boolean)).toBe(true);

    const off = await runCli(['user', 'set-sms-otp', 'erin', 'off'], env);
    expect(off.stdout).toMatch(/SMS code for erin: off \(note: smsOtp.enableByUserClaim is off/);
    expect((await accountRepository(t.db).findByUsername('erin'))!.smsOtpExempt).toBe(true);
    expect((await runCli(['user', 'set-sms-otp', 'erin', 'on'], { ...env, KEYSTEP_SMS_OTP_ENABLE_BY_USER_CLAIM: 'true' })).stdout).toBe('SMS code for erin: on\n');
    expect((await accountRepository(t.db).findByUsername('erin'))!.smsOtpExempt).toBe(false);
    expect(await runCli(['user', 'set-sms-otp', 'erin', 'maybe'], env)).toMatchObject({ code: 1 });
  });

  it('adds confidential and public clients, lists and removes them', async () => {
    const confidential = await runCli(['client', 'add', 'shop', '--redirect-uri', 'https://shop.example/cb', '--redirect-uri', 'https://shop.example/cb2', '--json'], env);
    expect(confidential.code).toBe(0);
    const created = JSON.parse(confidential.stdout);
    expect(created.client_id).toBe('shop');
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const pub = await runCli(['client', 'add', 'spa', '--redirect-uri', 'http://localhost:5173/cb', '--public', '--consent', '--mfa', 'required'], env);
    expect(pub.stdout).toMatch(/created public client spa/);
    expect(pub.stdout).not.toMatch(/secret/);
    const list = JSON.parse((await runCli(['client', 'list', '--json'], env)).stdout);
    expect(list).toEqual([
      expect.objectContaining({ client_id: 'shop', type: 'confidential', consent: false, mfa: 'default' }),
      expect.objectContaining({ client_id: 'spa', type: 'public', consent: true, mfa: 'required' }),
    ]);
    expect(JSON.stringify(list)).not.toContain(created.client_secret);
    expect(await runCli(['client', 'update', 'shop', '--mfa', 'phishing-resistant'], env)).toMatchObject({ code: 0, stdout: 'client shop: mfa phishing-resistant\n' });
    expect((await runCli(['client', 'add', 'kiosk', '--redirect-uri', 'https://kiosk.example/cb', '--mfa', 'phishing-resistant'], env)).code).toBe(0);
    expect(JSON.parse((await runCli(['client', 'list', '--json'], env)).stdout).map((c: { mfa: string }) => c.mfa)).toEqual(['phishing-resistant', 'phishing-resistant', 'required']);
    expect((await runCli(['client', 'update', 'kiosk', '--mfa', 'default'], env)).code).toBe(0);
    expect(await runCli(['client', 'update', 'shop', '--mfa', 'sometimes'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/phishing-resistant or default/) });
    expect(await runCli(['client', 'update', 'nobody', '--mfa', 'required'], env)).toMatchObject({ code: 3, stderr: expect.stringMatching(/no client nobody/) });
    expect(await runCli(['client', 'add', 'shop', '--redirect-uri', 'https://x.example/cb'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/already exists/) });
    expect(await runCli(['client', 'add', 'bad', '--redirect-uri', 'http://evil.example/cb'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/must use https/) });
    // A missing --redirect-uri is a command line that is wrong (status 2), a bad one a failure (1).
    expect(await runCli(['client', 'add', 'bad'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--redirect-uri/) });
    expect((await runCli(['client', 'remove', 'spa'], env)).code).toBe(0);
    expect((await runCli(['client', 'remove', 'spa'], env)).code).toBe(3);
  });

  it('says what a person got wrong without a stack trace, and prints the trace with --debug', async () => {
    const closed = { DATABASE_URL: `postgres://keystep:x@127.0.0.1:${await freePort()}/keystep` };
    const unreachable = await runCli(['user', 'list'], closed);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^keystep: connect ECONNREFUSED 127\.0\.0\.1:\d+\n/);
    expect(unreachable.stderr).not.toMatch(/^\s+at /m);
    expect(unreachable.stderr).toContain('--debug');
    expect(await runCli(['user', 'unlock', 'nobody'], env)).toEqual({ code: 3, stdout: '', stderr: 'keystep: no user named nobody\n' });

    for (const args of [['--debug', 'user', 'list'], ['user', 'list', '--debug']]) {
      const traced = await runCli(args, closed);
      expect(traced.code).toBe(1);
      expect(traced.stderr).toMatch(/^keystep: connect ECONNREFUSED 127\.0\.0\.1:\d+\n/);
      expect(traced.stderr).toMatch(/^\s+at /m);
    }
    const missing = await runCli(['--debug', 'user', 'unlock', 'nobody'], env);
    expect(missing).toMatchObject({ code: 3, stderr: expect.stringMatching(/^keystep: no user named nobody\n.*\n\s+at findUser /) });
  });

  it('reports configuration problems all at once and exits non-zero', async () => {
    const result = await runCli(['user', 'list'], { ...env, PORT: 'x', KEYSTEP_PASSWORD_MIN_LENGTH: '2' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/port \(PORT\)/);
    expect(result.stderr).toMatch(/password.minLength/);
  });
});
