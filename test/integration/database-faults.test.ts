import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/connection.ts';
import { openEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { migrateToLatest } from '../../src/db/migrations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import type { Page } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitStep, toSecondStep, type LoginAttempt, type RelyingParty } from '../support/rp.ts';
import { scratchDir, withCluster } from '../support/clusters.ts';
import { postgresOf, waitUntil } from '../support/postgres-faults.ts';
import { freePort } from '../support/ports.ts';
import { RecordingSender } from '../support/sms.ts';

const PHONE = '+447400123456';
const PASSWORD = 'faults-long-password';
// Short limits, so a hung database shows within a test: a statement gets 0.5 s (the client gives up
// a second later), a connection 0.3 s, /readyz 0.3 s. The migrations run without them.
const TIMEOUTS = { connectTimeoutMs: 300, queryTimeoutMs: 500 };
const READINESS_MS = 300;
const SLACK_MS = 1500;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}

describe('Keystep while its Postgres hangs, dies and comes back', () => {
  let dataDir: string;
  let port: number;
  let server: EmbeddedDatabase;
  let t: TestApp;
  let rp: RelyingParty;
  let client: { clientId: string; clientSecret?: string; redirectUri: string };
  const sms = new RecordingSender();
  const postgres = () => postgresOf(dataDir);

  beforeAll(async () => {
    dataDir = withCluster(scratchDir('keystep-faults-'));
    port = await freePort();
    server = await openEmbeddedPostgres(dataDir, port);
    const migrating = createDb(server.url, 1);
    await migrateToLatest(migrating);
    await migrating.destroy();
    const db = createDb(server.url, 10, TIMEOUTS);
    t = await startTestApp({ database: { db, url: server.url, drop: async () => {} }, smsSender: sms, overrides: { readinessTimeoutMs: READINESS_MS } });
    await t.addUser('faye', PASSWORD, PHONE);
    client = await t.addClient('faults-app');
    rp = await relyingParty(t, client);
  });
  afterAll(async () => {
    // Never leave a stopped server behind, whatever failed.
    try { postgres().resume(); } catch { /* already gone */ }
    await t?.close();
    await t?.database.db.destroy();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const readyz = () => fetch(`${t.issuer}/readyz`);

  async function atCodePage(): Promise<{ attempt: LoginAttempt; page: Page }> {
    const { attempt, next } = await toSecondStep(rp, 'faye', PASSWORD);
    const page = pageOf(next);
    expect(page.html).toContain('autocomplete="one-time-code"');
    return { attempt, page };
  }

  /**
   * While the database cannot answer: the page is a quick 503 saying to try again, the token
   * endpoint a quick 503 as OAuth says it, and /readyz a quick 503. Sent at once, as users would:
   * each has its own limit to meet.
   */
  async function expectUnavailable(attempt: LoginAttempt, page: Page) {
    const [shown, token, ready] = await Promise.all([
      timed(() => attempt.browser.visit(page.url)),
      timed(() => fetch(`${t.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'some-code', redirect_uri: client.redirectUri }).toString(),
      })),
      timed(readyz),
    ]);
    const unavailable = pageOf(shown.value);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('5');
    expect(unavailable.html).toContain('cannot reach its database right now');
    expect(shown.ms).toBeLessThan(TIMEOUTS.queryTimeoutMs + 1000 + SLACK_MS);
    expect([token.value.status, await token.value.json()]).toMatchObject([503, { error: 'temporarily_unavailable' }]);
    expect(token.ms).toBeLessThan(TIMEOUTS.queryTimeoutMs + 1000 + SLACK_MS);
    expect(ready.value.status).toBe(503);
    expect(await ready.value.json()).toMatchObject({ status: 'unavailable', checks: { database: { status: 'failing' } } });
    // Its own limit, well before the database's: the check does not wait for the driver to give up.
    expect(ready.ms).toBeLessThan(READINESS_MS + SLACK_MS);
  }

  /** Once it answers again: the same login is still at the code step, and the SMS code finishes it. */
  async function expectLoginGoesOn(attempt: LoginAttempt, page: Page) {
    await waitUntil(async () => (await readyz()).status === 200, 10_000, '/readyz answers 200 again');
    const again = pageOf(await attempt.browser.visit(page.url));
    expect(again.status).toBe(200);
    expect(again.html).toContain('autocomplete="one-time-code"');
    const done = await submitStep(attempt.browser, again, 'sms-otp', { code: sms.lastCode(PHONE) });
    const tokens = await exchange(rp, attempt, callbackOf(done));
    expect(tokens.claims()).toMatchObject({ amr: ['pwd', 'sms', 'mfa'], acr: 'urn:keystep:acr:mfa' });
  }

  it('a hung Postgres (SIGSTOP) fails the code page and /readyz fast; after SIGCONT the login goes on at the code', async () => {
    const { attempt, page } = await atCodePage();
    postgres().hang();
    try {
      // The provider's own pages too: a new authorization request is a 503 page, not a hang or a 500.
      const [started] = await Promise.all([timed(async () => (await startLogin(rp)).visit), expectUnavailable(attempt, page)]);
      expect(pageOf(started.value).status).toBe(503);
      expect(started.ms).toBeLessThan(TIMEOUTS.queryTimeoutMs + 1000 + SLACK_MS);
    } finally {
      postgres().resume();
    }
    await expectLoginGoesOn(attempt, page);
    expect(t.logLines.join('')).not.toMatch(/"level":50/);
    expect(t.logLines.join('')).toMatch(/database unavailable/);
  });

  it('a killed Postgres (SIGKILL) fails fast; started again, the same Keystep serves and the login goes on at the code', async () => {
    const { attempt, page } = await atCodePage();
    await postgres().kill();
    await expectUnavailable(attempt, page);
    // A new server process on the same data directory; Keystep itself is not restarted.
    server = await openEmbeddedPostgres(dataDir, port);
    await expectLoginGoesOn(attempt, page);
  });
});
