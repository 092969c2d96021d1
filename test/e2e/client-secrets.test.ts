import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { relyingParty } from '../support/rp.ts';

const HOUR = 3_600_000;

describe('keystep client show, update and rotate-secret', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let offset = 0;

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => new Date(Date.now() + offset) } });
    env = { DATABASE_URL: t.database.url };
  });
  afterAll(() => t.close());

  /** Client authentication as an app does it: a token revocation with HTTP Basic (a token Keystep never issued). */
  async function authenticates(clientId: string, secret: string): Promise<boolean> {
    const rp = await relyingParty(t, { clientId, clientSecret: secret, redirectUri: 'https://shop.example/cb' });
    try {
      await oidc.tokenRevocation(rp.config, 'not-a-token-of-ours');
      return true;
    } catch (err) {
      expect(err).toMatchObject({ status: 401, cause: [{ parameters: expect.objectContaining({ error: 'invalid_client' }) }] });
      return false;
    }
  }

  it('accepts the old secret and the new one during the grace period, then only the new one', async () => {
    const added = JSON.parse((await runCli(['client', 'add', 'shop', '--redirect-uri', 'https://shop.example/cb', '--json'], env)).stdout);
    const rotation = await runCli(['client', 'rotate-secret', 'shop', '--grace', '1h', '--json'], env);
    expect(rotation.code).toBe(0);
    const rotated = JSON.parse(rotation.stdout);
    expect(rotated.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.client_secret).not.toBe(added.client_secret);
    expect(Date.parse(rotated.previous_secret_expires_at) - Date.now()).toBeGreaterThan(HOUR - 60_000);

    expect(await authenticates('shop', added.client_secret)).toBe(true);
    expect(await authenticates('shop', rotated.client_secret)).toBe(true);
    expect(await authenticates('shop', 'a-secret-that-was-never-issued')).toBe(false);

    offset = HOUR + 60_000;
    expect(await authenticates('shop', added.client_secret)).toBe(false);
    expect(await authenticates('shop', rotated.client_secret)).toBe(true);
    offset = 0;

    // Stored as a hash only, and never shown.
    const stored = JSON.stringify((await t.database.db.selectFrom('clients').select('metadata').where('client_id', '=', 'shop').executeTakeFirstOrThrow()).metadata);
    expect(stored).not.toContain(added.client_secret);
    const shown = await runCli(['client', 'show', 'shop', '--json'], env);
    expect(JSON.parse(shown.stdout)).toMatchObject({ client_id: 'shop', type: 'confidential', previous_secret_expires_at: rotated.previous_secret_expires_at });
    expect(shown.stdout).not.toContain(rotated.client_secret);
    expect(shown.stdout).not.toMatch(/sha256/);
  });

  it('ends the old secret at once with --grace 0s, and keeps an earlier one still in its grace period', async () => {
    const added = JSON.parse((await runCli(['client', 'add', 'kiosk', '--redirect-uri', 'https://kiosk.example/cb', '--json'], env)).stdout);
    const first = JSON.parse((await runCli(['client', 'rotate-secret', 'kiosk', '--grace', '2h', '--json'], env)).stdout);
    const second = JSON.parse((await runCli(['client', 'rotate-secret', 'kiosk', '--grace', '0s', '--json'], env)).stdout);
    expect(second.previous_secret_expires_at).toBeNull();
    expect(await authenticates('kiosk', first.client_secret)).toBe(false);
    expect(await authenticates('kiosk', second.client_secret)).toBe(true);
    // The secret before the first rotation has an hour and more to go.
    expect(await authenticates('kiosk', added.client_secret)).toBe(true);
  });

  it('updates redirect URIs, post-logout URIs, consent, MFA and name without touching the secret', async () => {
    const { client_secret: secret } = JSON.parse((await runCli(['client', 'add', 'blog', '--redirect-uri', 'https://blog.example/cb', '--post-logout-redirect-uri', 'https://blog.example/bye', '--json'], env)).stdout);
    const updated = await runCli(['client', 'update', 'blog', '--redirect-uri', 'https://blog.example/a', '--redirect-uri', 'https://blog.example/b', '--no-post-logout-redirect-uris', '--consent', '--mfa', 'required', '--name', 'The Blog'], env);
    expect(updated).toMatchObject({ code: 0, stdout: 'client blog: redirect URIs, post-logout URIs removed, mfa required, consent required, name\n' });
    expect(JSON.parse((await runCli(['client', 'show', 'blog', '--json'], env)).stdout)).toMatchObject({
      redirect_uris: ['https://blog.example/a', 'https://blog.example/b'], post_logout_redirect_uris: [], consent: true, mfa: 'required', name: 'The Blog', previous_secret_expires_at: null,
    });
    expect((await runCli(['client', 'update', 'blog', '--no-consent', '--post-logout-redirect-uri', 'https://blog.example/bye'], env)).code).toBe(0);
    expect(JSON.parse((await runCli(['client', 'show', 'blog', '--json'], env)).stdout)).toMatchObject({ consent: false, post_logout_redirect_uris: ['https://blog.example/bye'] });
    expect(await authenticates('blog', secret)).toBe(true);
    expect((await runCli(['client', 'show', 'blog'], env)).stdout).toMatch(/^redirect_uris: {14}https:\/\/blog.example\/a https:\/\/blog.example\/b$/m);
  });

  it('answers mistakes with a clear message and the documented status', async () => {
    await runCli(['client', 'add', 'spa', '--redirect-uri', 'http://localhost:5173/cb', '--public'], env);
    expect(await runCli(['client', 'update', 'blog'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/say what to change: --redirect-uri/) });
    expect(await runCli(['client', 'update', 'blog', '--redirect-uri', 'http://evil.example/cb'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/must use https/) });
    expect(await runCli(['client', 'update', 'nobody', '--consent'], env)).toMatchObject({ code: 3, stderr: 'keystep: no client nobody\n' });
    expect(await runCli(['client', 'show', 'nobody'], env)).toMatchObject({ code: 3 });
    expect(await runCli(['client', 'rotate-secret', 'nobody'], env)).toMatchObject({ code: 3 });
    expect(await runCli(['client', 'rotate-secret', 'spa'], env)).toMatchObject({ code: 1, stderr: 'keystep: spa is a public client: it has no secret\n' });
    expect(await runCli(['client', 'rotate-secret', 'blog', '--grace', 'a while'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--grace is a length of time/) });
    expect(await runCli(['client', 'rotate-secret', 'blog', '--grace', '31d'], env)).toMatchObject({ code: 2 });
    expect(await runCli(['client', 'rotate-secret'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/missing required argument/) });
  });
});
