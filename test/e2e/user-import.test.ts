import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hash as argon2 } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLegacyHashes } from '../../src/login/passwords.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, formAction, hiddenValue } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { cheapHasher } from '../support/hasher.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'keystep-user-import-'));
const cheap = { memoryCost: 64, timeCost: 1, parallelism: 1 };
const ab64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');
const csvField = (v: string) => `"${v.replace(/"/g, '""')}"`;

function csv(rows: Record<string, string>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [columns.map(csvField).join(','), ...rows.map((r) => columns.map((c) => csvField(r[c] ?? '')).join(','))].join('\n') + '\n';
}

function file(name: string, text: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, text);
  return full;
}

describe('keystep user import', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let env: Record<string, string>;
  const sms = new RecordingSender();
  const hashOf = async (username: string) => (await t.database.db.selectFrom('accounts').select('password_hash').where('username', '=', username).executeTakeFirstOrThrow()).password_hash;

  // One user per hash format Keystep takes, each with the password `<name>-long-password`.
  const users: Record<string, { hash?: string; extra?: Record<string, string> }> = {};

  beforeAll(async () => {
    // The login verifies imported formats as Keystep's own hasher does, with the tests' cheap argon2id.
    t = await startTestApp({ smsSender: sms, hasher: withLegacyHashes(cheapHasher), overrides: { smsOtp: { userSendLimit: 100 } } });
    rp = await relyingParty(t, await t.addClient('web-app'));
    env = { DATABASE_URL: t.database.url };
    const pw = (name: string) => `${name}-long-password`;
    const salt = randomBytes(16);
    users.argon2id = { hash: await cheapHasher.hash(pw('argon2id')) };
    users.argon2i = { hash: await argon2(pw('argon2i'), { ...cheap, algorithm: 1 }) };
    users.argon2d = { hash: await argon2(pw('argon2d'), { ...cheap, algorithm: 0 }) };
    users.bcrypt = { hash: bcrypt.hashSync(pw('bcrypt'), 4) };
    users.pbkdf2 = { hash: `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(pbkdf2Sync(pw('pbkdf2'), salt, 1000, 32, 'sha256'))}` };
    // WSO2's user store: the base64 hash and its salt apart; the salt's text is the salt.
    users.wso2 = { extra: { password_hash: pbkdf2Sync(pw('wso2'), 'c2FsdHNhbHQ=', 10_000, 32, 'sha256').toString('base64'), password_salt: 'c2FsdHNhbHQ=' } };
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(username: string, password: string, phone: string) {
    const { attempt, next } = await toSecondStep(rp, username, password);
    const page = pageOf(next);
    expect(page.html).toContain('autocomplete="one-time-code"');
    return exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, page, 'sms-otp', { code: sms.lastCode(phone) })));
  }

  it('imports every hash format; each signs in with its password and is re-hashed to argon2id then', async () => {
    const rows = Object.entries(users).map(([name, u], i) => ({
      username: name, 'http://wso2.org/claims/mobile': `+4474005000${10 + i}`, ...(u.hash ? { password_hash: u.hash } : {}), ...u.extra,
    }));
    const result = await runCli(['user', 'import', file('users.csv', csv(rows))], env);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('imported 6 user(s), 6 with a number, 0 with backup codes, 1 domain(s) (primary); password hashes: argon2id 1, argon2i 1, argon2d 1, bcrypt 1, pbkdf2-sha256 2');

    for (const [i, name] of Object.keys(users).entries()) {
      const before = await hashOf(name);
      // A wrong password changes nothing.
      const wrong = pageOf((await toSecondStep(rp, name, 'not-the-password')).next);
      expect(alertText(wrong.html)).toBe('The username or password is incorrect.');
      expect(await hashOf(name)).toBe(before);

      const tokens = await signIn(name, `${name}-long-password`, `+4474005000${10 + i}`);
      expect(tokens.claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
      const after = await hashOf(name);
      if (name === 'argon2id') expect(after).toBe(before);
      else {
        expect(after).not.toBe(before);
        expect(after).toMatch(/^\$argon2id\$/);
        expect(await cheapHasher.verify(after, `${name}-long-password`)).toBe(true);
      }
      // And again, now against the argon2id hash.
      await signIn(name, `${name}-long-password`, `+4474005000${10 + i}`);
    }
    // The new hash replaces only the one the sign-in checked: an operator's new password meanwhile wins.
    const accounts = accountRepository(t.database.db);
    const bcryptUser = (await accounts.findByUsername('bcrypt'))!;
    expect(await accounts.replacePasswordHash(bcryptUser.id, users.bcrypt!.hash!, 'stale')).toBe(false);
    expect(await hashOf('bcrypt')).toBe(bcryptUser.passwordHash);
    const rehashed = await t.database.db.selectFrom('auth_events').select('event').where('event', '=', 'user.password_rehashed').execute();
    expect(rehashed).toHaveLength(5);
  });

  it('imports WSO2\'s backup codes hashed, and each works once', async () => {
    const line = JSON.stringify({ username: 'wendy', password_hash: bcrypt.hashSync('wendys-long-password', 4), claims: { 'http://wso2.org/claims/mobile': '+447400600600', 'http://wso2.org/claims/otpbackupcodes': '482913,120734' } });
    const result = await runCli(['user', 'import', file('wendy.jsonl', `${line}\n`)], env);
    expect(result.stdout).toContain('imported 1 user(s), 1 with a number, 1 with backup codes');
    const stored = await t.database.db.selectFrom('backup_codes').innerJoin('accounts', 'accounts.id', 'backup_codes.account_id').select('code_hash').where('username', '=', 'wendy').execute();
    expect(stored).toHaveLength(2);
    for (const row of stored) expect(row.code_hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(stored)).not.toContain('482913');

    const useCode = async (code: string) => {
      const { attempt, next } = await toSecondStep(rp, 'wendy', 'wendys-long-password');
      const backup = pageOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { action: 'backup' }));
      const answer = pageOf(await submitStep(attempt.browser, backup, 'backup-code', { code }));
      return { attempt, answer };
    };
    const first = await useCode('482913');
    expect(alertText(first.answer.html)).toMatch(/^Backup code accepted. You have 1 unused backup code/);
    const done = await first.attempt.browser.submit(new URL(formAction(first.answer.html), first.answer.url).toString(), { _csrf: hiddenValue(first.answer.html, '_csrf') });
    expect((await exchange(rp, first.attempt, callbackOf(done))).claims()!.amr).toEqual(['pwd', 'mfa']);
    expect(alertText((await useCode('482913')).answer.html)).toMatch(/not right, or it was already used/);
  });

  it('imports into account domains, WSO2\'s DOMAIN/username or a domain field, each account apart', async () => {
    const rows: Record<string, string>[] = [
      { username: 'PARTNERS/alice', password_hash: bcrypt.hashSync('partner-alices-password', 4), phone: '+447400800801' },
      { username: 'alice', domain: 'PRIMARY', password_hash: bcrypt.hashSync('primary-alices-password', 4), phone: '+447400800802' },
      { username: 'bob', domain: 'partners', password_hash: bcrypt.hashSync('partner-bobs-password', 4) },
    ];
    const result = await runCli(['user', 'import', file('domains.csv', csv(rows))], env);
    expect(result.stdout).toContain('imported 3 user(s), 2 with a number, 0 with backup codes, 2 domain(s) (partners, primary)');
    const stored = await t.database.db.selectFrom('accounts').select(['domain', 'username']).where('username', 'in', ['alice', 'bob']).orderBy('domain').orderBy('username').execute();
    expect(stored).toEqual([{ domain: 'partners', username: 'alice' }, { domain: 'partners', username: 'bob' }, { domain: 'primary', username: 'alice' }]);
    await signIn('partners/alice', 'partner-alices-password', '+447400800801');
    await signIn('alice', 'primary-alices-password', '+447400800802');
    expect(alertText(pageOf((await toSecondStep(rp, 'alice', 'partner-alices-password')).next).html)).toBe('The username or password is incorrect.');
    // The same names again are taken, each in its own domain.
    const again = await runCli(['user', 'import', file('domains-again.csv', csv(rows.slice(0, 1)))], env);
    expect(again.stderr).toContain('row 1 (line 2): the username partners/alice is taken');
  });

  it('refuses the whole file when a row is bad, naming each bad row, and writes nothing', async () => {
    const rows: Record<string, string>[] = [
      { username: 'good', password_hash: bcrypt.hashSync('goods-long-password', 4), phone: '+447400700700' },
      { username: 'md5', password_hash: '5f4dcc3b5aa765d61d8327deb882cf99' },
      { username: 'landline', password_hash: bcrypt.hashSync('x-long-password', 4), phone: '+442071838750' },
      { username: 'GOOD', password_hash: bcrypt.hashSync('x-long-password', 4) },
      { username: 'bcrypt', password_hash: bcrypt.hashSync('x-long-password', 4) },
      { username: 'no domain/pat', password_hash: bcrypt.hashSync('x-long-password', 4) },
      { username: 'slow', password_hash: `$pbkdf2-sha256$900000000$${ab64(randomBytes(8))}$${ab64(randomBytes(32))}` },
      { username: 'codes', password_hash: bcrypt.hashSync('x-long-password', 4), otpbackupcodes: '482913,ABCDEFGHI0' },
    ];
    const result = await runCli(['user', 'import', file('bad.csv', csv(rows))], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^keystep: nothing imported: 7 row\(s\) cannot be imported/);
    expect(result.stderr).toContain('row 2 (line 3): password_hash: not a password hash Keystep can verify');
    expect(result.stderr).toContain('row 3 (line 4): phone: not a mobile number');
    expect(result.stderr).toContain('row 4 (line 5): username GOOD is also in row 1');
    expect(result.stderr).toContain('row 5 (line 6): the username bcrypt is taken');
    expect(result.stderr).toContain('row 6 (line 7): username "no domain/pat": a domain is 1 to 32 letters');
    expect(result.stderr).toContain('row 7 (line 8): password_hash: PBKDF2 iterations 900000000 are outside');
    expect(result.stderr).toContain('row 8 (line 9): backup code 2 is not one Keystep can take');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await t.database.db.selectFrom('accounts').select('username').where('username', '=', 'good').execute()).toEqual([]);

    const broken = await runCli(['user', 'import', file('broken.csv', 'username,password_hash\n"unclosed,x\n')], env);
    expect(broken).toMatchObject({ code: 1, stderr: expect.stringMatching(/line \d+: not valid CSV/) });
    const notJson = await runCli(['user', 'import', file('broken.jsonl', '{"username":"a"}\nnot json\n')], env);
    expect(notJson.stderr).toMatch(/row 2 \(line 2\): not a JSON object/);
  });
});
