import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { clientRepository } from '../../src/repositories/clients.ts';
import { REDIRECT_URI, startTestApp } from '../support/app.ts';
import { alertText, formAction, hiddenValue } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, passwordLogin, relyingParty, startLogin, submitStep, toSecondStep } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';

/** Settings and client options whose effect is not covered by the behaviour tests elsewhere. */
describe('settings', () => {
  it('resendEnable off: no button, and the server refuses a resend; maskVisibleDigits; keys.otpHmacKey', async () => {
    const sms = new RecordingSender();
    const t = await startTestApp({ smsSender: sms, overrides: { smsOtp: { resendEnable: false, maskVisibleDigits: 2 }, keys: { otpHmacKey: 'k'.repeat(40) } } });
    try {
      await t.addUser('gus', 'guss-long-password', '+447400123456');
      const rp = await relyingParty(t, await t.addClient('web-app'));
      const { attempt, next } = await toSecondStep(rp, 'gus', 'guss-long-password');
      const page = pageOf(next);
      expect(page.html).toContain('+44 •••• •••• 56');
      expect(page.html).not.toContain('Send a new code');
      const refused = pageOf(await submitStep(attempt.browser, page, 'sms-otp', { action: 'resend' }));
      expect(alertText(refused.html)).toMatch(/New codes cannot be sent/);
      expect(sms.sent).toHaveLength(1);
      await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, refused, 'sms-otp', { code: sms.lastCode('+447400123456') })));
      const secrets = await t.database.db.selectFrom('server_secrets').select('name').execute();
      expect(secrets.map((r) => r.name)).not.toContain('otp_hmac_key');
    } finally {
      await t.close();
    }
  });

  it('trustProxy: the client address is the one the proxy added, not one the client wrote', async () => {
    const t = await startTestApp({ overrides: { trustProxy: true, smsOtp: { mandatory: false } } });
    try {
      await t.addUser('hank', 'hanks-long-password');
      const rp = await relyingParty(t, await t.addClient('web-app'));
      const attempt = await startLogin(rp);
      const page = pageOf(attempt.visit);
      await attempt.browser.request(new URL(formAction(page.html), page.url).toString(), {
        method: 'POST', contentType: 'application/x-www-form-urlencoded', headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' },
        body: new URLSearchParams({ _csrf: hiddenValue(page.html, '_csrf'), step: 'password', username: 'hank', password: 'hanks-long-password' }).toString(),
      });
      const event = await t.database.db.selectFrom('auth_events').select('ip').where('event', '=', 'login.password').executeTakeFirstOrThrow();
      expect(event.ip).toBe('198.51.100.7');
    } finally {
      await t.close();
    }
  });

  it('refresh tokens keep the first expiry through rotation; a client cannot revoke another\'s tokens; client_secret_post works', async () => {
    const t = await startTestApp({ overrides: { smsOtp: { mandatory: false }, tokens: { refreshTokenTtlSeconds: 3600 } } });
    try {
      await t.addUser('ida', 'idas-long-password');
      const rp = await relyingParty(t, await t.addClient('web-app'));
      const { tokens } = await passwordLogin(rp, 'ida', 'idas-long-password', { scope: 'openid offline_access', prompt: 'consent' });
      const expiry = async () => (await t.database.db.selectFrom('oidc_payloads').select('expires_at').where('model', '=', 'RefreshToken').where('consumed_at', 'is', null).executeTakeFirstOrThrow()).expires_at!.getTime();
      const first = await expiry();
      const rotated = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
      expect(Math.abs((await expiry()) - first)).toBeLessThan(2000);
      expect(first - Date.now()).toBeLessThanOrEqual(3600 * 1000);

      // Another client's revocation request leaves the token alone.
      await clientRepository(t.database.db).insert({
        clientId: 'post-app', consentRequired: false, mfa: null,
        metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post', client_secret: 'post-app-secret-0123456789abcdef' },
      });
      const other = await oidc.discovery(new URL(t.issuer), 'post-app', 'post-app-secret-0123456789abcdef', oidc.ClientSecretPost('post-app-secret-0123456789abcdef'), { execute: [oidc.allowInsecureRequests] });
      await oidc.tokenRevocation(other, rotated.refresh_token!).catch(() => undefined);
      expect((await oidc.refreshTokenGrant(rp.config, rotated.refresh_token!)).access_token).toBeTruthy();

      // client_secret_post, end to end.
      const postRp = { config: other, redirectUri: REDIRECT_URI };
      const { tokens: postTokens } = await passwordLogin(postRp, 'ida', 'idas-long-password');
      expect(postTokens.claims()!.aud).toBe('post-app');
    } finally {
      await t.close();
    }
  });
});
