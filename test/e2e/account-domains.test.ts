import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { pageOf, passwordLogin, relyingParty, startLogin, submitPassword, type RelyingParty } from '../support/rp.ts';
import { alertText } from '../support/browser.ts';

// Accounts live in domains (WSO2's user stores): the same username in two domains is two accounts,
// each signing in with its own password, and `primary` is the domain of a name typed without one.
describe('account domains', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp({ overrides: { smsOtp: { mandatory: false } } });
    ids.primary = await t.addUser('alice', 'alice-in-primary');
    ids.partners = await t.addUser('partners/alice', 'alice-at-partners');
    rp = await relyingParty(t, await t.addClient('domains-app'));
  });
  afterAll(() => t.close());

  async function signedIn(name: string, password: string) {
    const { tokens } = await passwordLogin(rp, name, password);
    return oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
  }

  it('signs in to the account of the domain typed, and names it domain/username to the app', async () => {
    expect(await signedIn('Partners/alice', 'alice-at-partners')).toMatchObject({ sub: ids.partners, preferred_username: 'partners/alice' });
    expect(await signedIn('alice', 'alice-in-primary')).toMatchObject({ sub: ids.primary, preferred_username: 'alice' });
    expect((await passwordLogin(rp, 'PRIMARY/alice', 'alice-in-primary')).tokens.claims()!.sub).toBe(ids.primary);
  });

  it('never takes one domain\'s password for the other\'s account, nor a name of an unknown domain', async () => {
    const tries: [string, string][] = [['alice', 'alice-at-partners'], ['partners/alice', 'alice-in-primary'], ['others/alice', 'alice-in-primary'], ['/alice', 'alice-in-primary']];
    for (const [name, password] of tries) {
      const attempt = await startLogin(rp);
      const result = await submitPassword(attempt.browser, pageOf(attempt.visit), name, password);
      expect(alertText(pageOf(result).html), name).toMatch(/incorrect/i);
    }
  });

  it('counts wrong passwords for `PRIMARY/alice` and `alice` as one name', async () => {
    await t.database.db.deleteFrom('password_failures').execute();
    const failures = () => t.database.db.selectFrom('password_failures').select(['username_key', 'failures']).where('username_key', 'in', ['alice', 'primary/alice']).execute();
    for (const name of ['alice', 'PRIMARY/alice']) {
      const attempt = await startLogin(rp);
      await submitPassword(attempt.browser, pageOf(attempt.visit), name, 'not-her-password');
    }
    expect(await failures()).toEqual([{ username_key: 'alice', failures: 2 }]);
    await passwordLogin(rp, 'alice', 'alice-in-primary');
  });

  it('`user add domain/name` creates the account in that domain; names and domains are checked', async () => {
    const env = { DATABASE_URL: t.database.url };
    expect(await runCli(['user', 'add', 'partners/bob'], env, 'bobs-long-password\n')).toMatchObject({ code: 0, stdout: 'created user partners/bob\n' });
    expect(await runCli(['user', 'add', 'PARTNERS/Bob'], env, 'bobs-long-password\n')).toMatchObject({ code: 1, stderr: expect.stringMatching(/partners\/Bob is taken/) });
    expect(await runCli(['user', 'add', 'primary/bob'], env, 'bobs-long-password\n')).toMatchObject({ code: 0, stdout: 'created user bob\n' });
    for (const bad of ['Part ners/carol', 'partners/', '/carol', 'a/b/c', `${'d'.repeat(33)}/carol`]) {
      expect(await runCli(['user', 'add', bad], env, 'carols-long-password\n'), bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/domain|username/) });
    }
    const accounts = accountRepository(t.database.db);
    expect(await accounts.findInDomain('partners', 'BOB')).toMatchObject({ domain: 'partners', username: 'bob' });
    expect((await accounts.findByUsername('bob'))?.domain).toBe('primary');
    const listed = JSON.parse((await runCli(['user', 'list', '--json'], env)).stdout) as { username: string }[];
    expect(listed.map((u) => u.username)).toEqual(expect.arrayContaining(['alice', 'bob', 'partners/alice', 'partners/bob']));
    expect((await runCli(['user', 'disable', 'partners/bob'], env)).stdout).toMatch(/^partners\/bob disabled/m);
    expect((await accounts.findByUsername('bob'))?.disabled).toBe(false);
  });
});
