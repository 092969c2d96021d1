import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../../src/login/passwords.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { clientRepository } from '../../src/repositories/clients.ts';
import { REDIRECT_URI } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep } from '../support/rp.ts';
import { startServe, type RunningServer } from '../support/serve.ts';

const PHONE = '+447400123456';
const PASSWORD = 'killed-long-password';
const SECRET = 'kill-app-secret-0123456789abcdef';

/** The code in the newest development SMS a server logged (the console sender logs the text, on purpose). */
function lastCodeIn(output: string): string | undefined {
  return [...output.matchAll(/"devText":"[^"]*#(\w+)"/g)].at(-1)?.[1];
}

describe('a Keystep process killed in the middle of a login', () => {
  let t: TestDatabase;
  let env: Record<string, string>;
  let issuer: string;
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    const accounts = accountRepository(t.db);
    const account = await accounts.create({ username: 'kim', passwordHash: await createArgon2Hasher().hash(PASSWORD), phone: PHONE });
    await accounts.setPhone(account.id, PHONE, new Date());
    await clientRepository(t.db).insert({
      clientId: 'kill-app',
      metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', client_secret: SECRET },
      consentRequired: false,
      mfa: null,
    });
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    env = { DATABASE_URL: t.url, PORT: String(port), HOST: '127.0.0.1', KEYSTEP_ISSUER: issuer, KEYSTEP_DEMO: 'false' };
  });
  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) await server.stop();
    await t.drop();
  });

  it('after the password, SIGKILL and a new process: the login goes on at the code step, nothing skipped, nothing sent twice', async () => {
    const first = await startServe(env);
    servers.push(first);
    const rp = await relyingParty({ issuer }, { clientId: 'kill-app', clientSecret: SECRET, redirectUri: REDIRECT_URI });
    const { attempt, next } = await toSecondStep(rp, 'kim', PASSWORD);
    const page = pageOf(next);
    expect(page.html).toContain('autocomplete="one-time-code"');
    await first.waitFor('development SMS');
    const code = lastCodeIn(first.output());
    expect(code).toMatch(/^\d{6}$/);

    const exited = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    await exited;

    const second = await startServe(env);
    servers.push(second);
    const again = pageOf(await attempt.browser.visit(page.url));
    expect(again.status).toBe(200);
    expect(again.html).toContain('autocomplete="one-time-code"');
    // The code sent before the kill is the one that works: the new process sent none.
    expect(second.output()).not.toContain('development SMS');
    const done = await submitStep(attempt.browser, again, 'sms-otp', { code: code! });
    const tokens = await exchange(rp, attempt, callbackOf(done));
    expect(tokens.claims()).toMatchObject({ amr: ['pwd', 'sms', 'mfa'], acr: 'urn:keystep:acr:mfa' });
    expect(await second.stop()).toBe(0);
  });
});
