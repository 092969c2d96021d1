import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { burstWinners } from '../support/bursts.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitPassword, type RelyingParty } from '../support/rp.ts';

/** One authorization code or refresh token spent by 50 simultaneous requests. */
describe('token limits under a burst', () => {
  let t: TestApp;
  let rp: RelyingParty;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { smsOtp: { mandatory: false } } });
    await t.addUser('gil', 'gils-long-password');
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  async function signIn(params: Record<string, string> = {}) {
    const attempt = await startLogin(rp, params);
    return { attempt, callback: callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'gil', 'gils-long-password')) };
  }

  const works = (accessToken: string, sub: string) => oidc.fetchUserInfo(rp.config, accessToken, sub).then(() => true, () => false);

  it('redeems an authorization code at most once for 50 simultaneous token requests, and a replay revokes what it gave', async () => {
    const { attempt, callback } = await signIn();
    const { won, lost } = await burstWinners(50, () => exchange(rp, attempt, callback));
    // One wins the code (its tokens may already be revoked by the losers' replays); every other
    // request is refused as a replay, never with a server error.
    expect(won.length).toBeLessThanOrEqual(1);
    expect(lost).toHaveLength(50 - won.length);
    for (const reason of lost) expect(reason).toMatchObject({ error: 'invalid_grant' });
    for (const tokens of won) expect(await works(tokens.access_token, tokens.claims()!.sub)).toBe(false);
    // Whatever the race, nothing more can be had for that code.
    await expect(exchange(rp, attempt, callback)).rejects.toThrow();
  });

  it('rotates a refresh token at most once for 50 simultaneous refreshes, and the reuse ends the grant', async () => {
    const { attempt, callback } = await signIn({ scope: 'openid offline_access', prompt: 'consent' });
    const first = await exchange(rp, attempt, callback);
    const sub = first.claims()!.sub;
    expect(first.refresh_token).toBeTruthy();
    const { won, lost } = await burstWinners(50, () => oidc.refreshTokenGrant(rp.config, first.refresh_token!));
    expect(won.length).toBeLessThanOrEqual(1);
    for (const reason of lost) expect(reason).toMatchObject({ error: 'invalid_grant' });
    for (const tokens of won) {
      expect(await works(tokens.access_token, sub)).toBe(false);
      await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toThrow();
    }
    expect(await works(first.access_token, sub)).toBe(false);
    await expect(oidc.refreshTokenGrant(rp.config, first.refresh_token!)).rejects.toThrow();
  });
});
