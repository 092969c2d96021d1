import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { accountRevocation } from '../../src/repositories/account-revocation.ts';
import { oidcPayloadRepository } from '../../src/repositories/oidc-payloads.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import type { Browser } from '../support/browser.ts';
import { countingHasher } from '../support/bursts.ts';
import { pageOf, relyingParty, startLogin, submitPassword, submitStep, type RelyingParty, offlineSignIn, silentSignIn as silentSignInAt } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';

const PASSWORD = 'the-old-long-password';

/** Signing out everywhere against requests that were already under way when it happened. */
describe('signing an account out everywhere, while its requests are in flight', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const hasher = countingHasher();

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, hasher, overrides: { smsOtp: { resendCooldownSeconds: 0 } } });
    rp = await relyingParty(t, await t.addClient('busy-app'));
  });
  afterAll(() => t.close());

  const signIn = (username: string, phone: string) => offlineSignIn(rp, sms, username, PASSWORD, phone);
  const silentSignIn = (browser: Browser) => silentSignInAt(rp, browser);

  /** What `keystep user set-password` does: the new password and the sign-out, in one transaction. */
  async function setPasswordAndSignOut(accountId: string) {
    const passwordHash = await hasher.hash('a-brand-new-long-password');
    await t.database.db.transaction().execute(async (trx) => {
      await accountRepository(trx).setPasswordHash(accountId, passwordHash);
      await accountRevocation(trx).revoke(accountId);
    });
  }

  // A sign-in some seconds before the sign-out, and one in the very second of it (the provider
  // dates rows in whole seconds).
  it.each([['seconds before it', 10], ['in its very second', 0]])('serves no session, grant or token of a sign-in %s that a request read before the sign-out and saved again after it', async (_when, secondsBefore) => {
    const phone = secondsBefore ? '+447400313131' : '+447400313130';
    const id = await t.addUser(`ada${secondsBefore}`, PASSWORD, phone);
    const { browser, tokens } = await signIn(`ada${secondsBefore}`, phone);
    const rows = await t.database.db.selectFrom('oidc_payloads').select(['model', 'id', 'payload']).where('account_id', '=', id).execute();
    expect(rows.map((r) => r.model)).toEqual(expect.arrayContaining(['Session', 'Grant', 'RefreshToken']));
    await setPasswordAndSignOut(id);
    const { signed_out_at: signedOutAt } = await t.database.db.selectFrom('accounts').select('signed_out_at').where('id', '=', id).executeTakeFirstOrThrow();
    const dated = Math.floor(signedOutAt!.getTime() / 1000) - secondsBefore;
    const redated = (payload: Record<string, unknown>) => Object.fromEntries(Object.entries(payload)
      .map(([key, value]) => [key, ['loginTs', 'authTime', 'iat'].includes(key) && typeof value === 'number' ? Math.min(value, dated) : value]));
    // Requests that read these before the sign-out save them again as they end, as the provider does.
    const store = oidcPayloadRepository(t.database.db);
    for (const row of rows) await store.upsert(row.model, row.id, redated(row.payload), 3600);

    expect(await silentSignIn(browser)).toBe('login_required');
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub)).rejects.toMatchObject({ status: 401 });
  });

  it('does not hand over a login whose old password was checked while the sign-out was being committed', async () => {
    const id = await t.addUser('dot', PASSWORD, '+447400343434');
    const newHash = await hasher.hash('a-brand-new-long-password');
    const attempt = await startLogin(rp);
    let posted!: ReturnType<typeof submitPassword>;
    const held = hasher.gate.holdNext();
    await t.database.db.transaction().execute(async (trx) => {
      await accountRepository(trx).setPasswordHash(id, newHash);
      await accountRevocation(trx).revoke(id);
      // Before the commit, the login reads the old hash, and it matches.
      posted = submitPassword(attempt.browser, pageOf(attempt.visit), 'dot', PASSWORD);
      await held.reached;
    });
    held.release();
    const codePage = pageOf(await posted);
    const done = await submitStep(attempt.browser, codePage, 'sms-otp', { code: sms.lastCode('+447400343434') });
    expect(done.callback).toBeUndefined();
    expect(pageOf(done).html).toContain('name="password"');
  });

  it('lets the user sign in again at once after signing out everywhere', async () => {
    const id = await t.addUser('bea', PASSWORD, '+447400323232');
    await signIn('bea', '+447400323232');
    await accountRevocation(t.database.db).revoke(id);
    const { browser, tokens } = await signIn('bea', '+447400323232');
    expect(await silentSignIn(browser)).toBeUndefined();
    expect((await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).access_token).toBeTruthy();
  });

  it('does not hand over a login whose password was checked just before a new password came', async () => {
    const id = await t.addUser('cid', PASSWORD, '+447400333333');
    const attempt = await startLogin(rp);
    const held = hasher.gate.holdNext();
    const posted = submitPassword(attempt.browser, pageOf(attempt.visit), 'cid', PASSWORD);
    await held.reached;
    await setPasswordAndSignOut(id);
    held.release();
    // The old password was right when it was checked, so the code is sent; the login cannot finish.
    const codePage = pageOf(await posted);
    const done = await submitStep(attempt.browser, codePage, 'sms-otp', { code: sms.lastCode('+447400333333') });
    expect(done.callback).toBeUndefined();
    expect(pageOf(done).html).toContain('name="password"');
    const completed = await t.database.db.selectFrom('auth_events').select('id').where('account_id', '=', id).where('event', '=', 'login.completed').execute();
    expect(completed).toHaveLength(0);
  });
});
