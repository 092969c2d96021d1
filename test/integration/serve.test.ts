import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { serveInProcess, startServe } from '../support/serve.ts';

describe('keystep serve', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase({ migrate: false }); });
  afterAll(() => t.drop());

  it('refuses to start on DATABASE_URL with pending migrations, naming the command to run', async () => {
    const failure = await serveInProcess({ DATABASE_URL: t.url, PORT: String(await freePort()) }).catch((err: { code: number; output: string }) => err);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { output: string }).output).toMatch(/pending migration.*\n.*npx keystep migrate/);
  });

  it('lists every configuration problem and exits non-zero, refusing development defaults in production', async () => {
    const failure = await serveInProcess({ DATABASE_URL: t.url, NODE_ENV: 'production', KEYSTEP_DEMO: 'true', PORT: 'none' }).catch((err: { code: number; output: string }) => err);
    expect(failure).toMatchObject({ code: 1 });
    const output = (failure as { output: string }).output;
    expect(output).toMatch(/port \(PORT\)/);
    expect(output).toMatch(/demo data is refused in production/);
    expect(output).toMatch(/issuer \(KEYSTEP_ISSUER\): must be set in production/);
  });

  it('lists a bad gateway template with the other configuration problems, in the same first round', async () => {
    const failure = await startServe({
      DATABASE_URL: t.url, PORT: 'none',
      KEYSTEP_SMS_SENDER: 'http', KEYSTEP_SMS_GATEWAY_URL: 'https://sms.example.com/send', KEYSTEP_SMS_GATEWAY_PAYLOAD: 'text=$ctx.msg&from=$ctx.sender',
    }).catch((err: { code: number; output: string }) => err);
    expect(failure).toMatchObject({ code: 1 });
    const output = (failure as { output: string }).output;
    expect(output).toMatch(/port \(PORT\)/);
    expect(output).toMatch(/never uses \$ctx\.num/);
    expect(output).toMatch(/unknown placeholder \$ctx\.sender/);
  });

  it('migrates itself with autoMigrate, serves health and readiness on loopback only by default, and stops on SIGTERM', async () => {
    const port = await freePort();
    const server = await serveInProcess({ DATABASE_URL: t.url, KEYSTEP_AUTO_MIGRATE: 'true', PORT: String(port) });
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok' });
      // 127.0.0.2 is loopback too, but not the address Keystep bound: all interfaces would answer there.
      await expect(fetch(`http://127.0.0.2:${port}/healthz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', checks: { database: { status: 'ok' } } });
      const discovery = await (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).json();
      expect(discovery).toMatchObject({
        issuer: `http://localhost:${port}`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        acr_values_supported: ['urn:keystep:acr:pwd', 'urn:keystep:acr:mfa', 'urn:keystep:acr:phr'],
      });
      expect(discovery.grant_types_supported).not.toContain('implicit');
      // JSON logs, one object a line.
      const lines = server.output().split('\n').filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect(server.output()).not.toMatch(/Unsupported runtime/);
    } finally {
      // What the binary's SIGTERM handler calls (the spawned test below sends the signal itself).
      expect(await server.stop()).toBe(0);
    }
  });

  it('starts in production with a gateway, serving neither the demo nor the dev SMS inbox', async () => {
    const port = await freePort();
    const gateway = { KEYSTEP_SMS_SENDER: 'http', KEYSTEP_SMS_GATEWAY_URL: 'https://sms.example.com/send', KEYSTEP_SMS_GATEWAY_PAYLOAD: 'to=$ctx.num&text=$ctx.msg', KEYSTEP_SMS_ALLOWED_COUNTRIES: 'GB' };
    // KEYSTEP_HOST is honoured (HOST, which shells set to the machine's name, is not).
    const server = await serveInProcess({ DATABASE_URL: t.url, KEYSTEP_AUTO_MIGRATE: 'true', NODE_ENV: 'production', KEYSTEP_ISSUER: 'https://id.example.com', PORT: String(port), KEYSTEP_HOST: '127.0.0.2', HOST: '127.0.0.1', ...gateway });
    try {
      for (const path of ['/dev/sms', '/demo']) expect((await fetch(`http://127.0.0.2:${port}${path}`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.2:${port}/readyz`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${port}/readyz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const failure = await serveInProcess({ DATABASE_URL: t.url, PORT: String(await freePort()), ...gateway, KEYSTEP_SMS_GATEWAY_HEADERS: 'X-Text: $ctx.msg' })
      .catch((err: { code: number; output: string }) => err);
    expect(failure).toMatchObject({ code: 1, output: expect.stringMatching(/X-Text uses \$ctx.msg/) });
  });

  // The one test of the real binary in a process of its own: it serves with the defaults (the
  // embedded database, demo data), the command finds the database it runs, and SIGTERM stops it.
  it('runs on the embedded database by default, and the command shares the running instance', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'keystep-embedded-'));
    const env = { KEYSTEP_DATA_DIR: dataDir, KEYSTEP_EMBEDDED_POSTGRES_PORT: String(await freePort()) };
    try {
      const port = await freePort();
      const server = await startServe({ ...env, PORT: String(port) });
      try {
        await server.waitFor('sign in as "demo"');
        const users = await runCli(['user', 'list', '--json'], env);
        expect(users.code).toBe(0);
        expect(JSON.parse(users.stdout)).toEqual([expect.objectContaining({ username: 'demo' })]);
        expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      } finally {
        expect(await server.stop()).toBe(0);
      }
      // With the server gone, the command starts (and stops) the embedded database itself.
      const after = await runCli(['client', 'list', '--json'], env);
      expect(after.code).toBe(0);
      expect(JSON.parse(after.stdout)).toEqual([
        expect.objectContaining({ client_id: 'keystep-account', mfa: 'required' }),
        expect.objectContaining({ client_id: 'keystep-demo' }),
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
