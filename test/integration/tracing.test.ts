import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tracingSettings } from '../../src/config/tracing.ts';
import { createArgon2Hasher } from '../../src/login/passwords.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { clientRepository } from '../../src/repositories/clients.ts';
import { REDIRECT_URI } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { passwordLogin, relyingParty } from '../support/rp.ts';
import type { SpanSummary } from '../support/traced-serve.ts';

const SECRET = 'traced-app-secret-0123456789abcdef';

describe('traces', () => {
  let t: TestDatabase;
  let child: ChildProcess;
  let issuer: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    await accountRepository(t.db).create({ username: 'tia', passwordHash: await createArgon2Hasher(1).hash('tias-long-password'), phone: null });
    await clientRepository(t.db).insert({
      clientId: 'traced-app',
      metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', client_secret: SECRET },
      consentRequired: false,
      mfa: 'optional',
    });
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    child = fork(path.resolve('test/support/traced-serve.ts'), {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: t.url, PORT: String(port), KEYSTEP_ISSUER: issuer, KEYSTEP_DEMO: 'false', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d; });
    child.stderr!.on('data', (d: Buffer) => { output += d; });
    // Listening, or gone with its output.
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`traced serve exited with ${code}:\n${output}`)));
      const poll = setInterval(() => {
        fetch(`${issuer}/healthz`).then((r) => { if (r.ok) { clearInterval(poll); resolve(); } }, () => undefined);
      }, 50);
    });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await t?.drop();
  });

  it('are on only with an OTLP endpoint (the OpenTelemetry convention)', () => {
    expect(tracingSettings({})).toBeUndefined();
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBeUndefined();
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ serviceName: 'keystep' });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces', OTEL_SERVICE_NAME: 'id' })).toEqual({ serviceName: 'id' });
  });

  it('of a real login through `keystep serve` (ES modules) hold the HTTP requests, the Koa middleware and the SQL, in one trace per request', async () => {
    const rp = await relyingParty({ issuer }, { clientId: 'traced-app', clientSecret: SECRET, redirectUri: REDIRECT_URI });
    await passwordLogin(rp, 'tia', 'tias-long-password');
    const reply = once(child, 'message');
    child.send('spans');
    const [spans] = (await reply) as [SpanSummary[]];

    const posted = spans.find((s) => s.scope === '@opentelemetry/instrumentation-http' && s.attributes['http.request.method'] === 'POST' && String(s.attributes['url.path']).startsWith('/interaction/'));
    expect(posted, JSON.stringify(spans.map((s) => [s.scope, s.name]))).toBeDefined();
    const sameRequest = spans.filter((s) => s.traceId === posted!.traceId);
    expect(sameRequest.some((s) => s.scope === '@opentelemetry/instrumentation-koa')).toBe(true);
    const sql = sameRequest.filter((s) => s.scope === '@opentelemetry/instrumentation-pg' && s.attributes['db.system.name'] === 'postgresql');
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.some((s) => /^select|^insert|^update|^with/i.test(String(s.attributes['db.query.text'])))).toBe(true);
    // The statements are there, their values are not (the password, the username).
    expect(JSON.stringify(spans)).not.toContain('tias-long-password');
    // The token request too, outside the login's pages.
    expect(spans.some((s) => s.scope === '@opentelemetry/instrumentation-http' && String(s.attributes['url.path']) === '/token')).toBe(true);
  });
});
