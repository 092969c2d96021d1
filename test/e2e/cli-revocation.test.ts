import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty, offlineSignIn, silentSignIn as silentSignInAt } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';
import type { Browser } from '../support/browser.ts';

const PASSWORD = 'the-old-long-password';

/** What an operator's command must end: an app's tokens, the browser's single sign-on, a login at the code page. */
describe('the keystep command evicts whoever is signed in', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, overrides: { smsOtp: { resendCooldownSeconds: 0 } } });
    rp = await relyingParty(t, await t.addClient('evicted-app'));
  });
  afterAll(() => t.close());

  const signIn = (username: string, phone: string) => offlineSignIn(rp, sms, username, PASSWORD, phone);
  const silentSignIn = (browser: Browser) => silentSignInAt(rp, browser);

  const commands: [string, (username: string) => [string[], string?][]][] = [
    ['user set-password', (u) => [[['user', 'set-password', u], 'a-brand-new-long-password\n']]],
    ['user set-phone', (u) => [[['user', 'set-phone', u, '+447400999888']]]],
    ['user disable, then user enable', (u) => [[['user', 'disable', u]], [['user', 'enable', u]]]],
    ['user revoke', (u) => [[['user', 'revoke', u]]]],
  ];

  it.each(commands.map(([name, runs], i) => ({ name, runs, username: `evicted${i}`, phone: `+4474001000${i}0` })))(
    '$name ends the refresh token, the access token, the single sign-on session and a login at the code page',
    async ({ name, runs, username, phone }) => {
      const accountId = await t.addUser(username, PASSWORD, phone);
      const { browser, tokens } = await signIn(username, phone);
      // Everything works before, so that what fails after fails because of the command.
      const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
      expect((await oidc.fetchUserInfo(rp.config, refreshed.access_token, tokens.claims()!.sub)).sub).toBe(accountId);
      expect(await silentSignIn(browser)).toBeUndefined();
      // Whoever knows the password and waits for the code at this moment.
      const pending = await toSecondStep(rp, username, PASSWORD);
      const pendingCode = sms.lastCode(phone);

      for (const [args, stdin] of runs(username)) {
        const result = await runCli(args, { DATABASE_URL: t.database.url }, stdin);
        expect(result, result.stderr).toMatchObject({ code: 0 });
      }

      await expect(oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(oidc.fetchUserInfo(rp.config, refreshed.access_token, tokens.claims()!.sub)).rejects.toMatchObject({ status: 401 });
      expect(await silentSignIn(browser)).toBe('login_required');
      const late = await submitStep(pending.attempt.browser, pageOf(pending.next), 'sms-otp', { code: pendingCode });
      expect(late.callback).toBeUndefined();
      // The login starts again at the password: its progress is gone.
      expect(pageOf(late).html).toContain('name="password"');

      const events = await t.database.db.selectFrom('auth_events').select(['detail']).where('account_id', '=', accountId).where('event', '=', 'user.signed_out_everywhere').execute();
      expect(events.map((e) => e.detail), name).toEqual([{ cause: name.split(/[ ,]/)[1], sessions: 1, grants: 1, tokens: 6, logins: 1 }]);
    },
  );

  it('says so when the user does not exist, and signs nobody else out', async () => {
    const accountId = await t.addUser('bystander', PASSWORD, '+447400100990');
    const { tokens } = await signIn('bystander', '+447400100990');
    expect(await runCli(['user', 'revoke', 'nobody'], { DATABASE_URL: t.database.url })).toMatchObject({ code: 3, stderr: expect.stringMatching(/no user named nobody/) });
    await t.addUser('signed-out', PASSWORD);
    const revoked = await runCli(['user', 'revoke', 'signed-out'], { DATABASE_URL: t.database.url });
    expect(revoked.stdout).toBe('signed signed-out out everywhere: ended 0 session(s), 0 grant(s), 0 token(s) and 0 login(s) in progress\n');
    expect((await oidc.fetchUserInfo(rp.config, tokens.access_token, accountId)).sub).toBe(accountId);
    expect((await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).access_token).toBeTruthy();
  });
});
