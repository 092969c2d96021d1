import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { clientRepository } from '../../src/repositories/clients.ts';
import { federatedLinkRepository } from '../../src/repositories/federated-links.ts';
import { upstreamProviderRepository, upstreamSecretsKey } from '../../src/repositories/upstream-providers.ts';
import { startTestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { storedUpstreams } from '../support/upstream.ts';

const SECRET = 'upstream-client-secret-0123456789';

describe('keystep idp, client --first-step, user link', () => {
  let t: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await createTestDatabase();
    env = { DATABASE_URL: t.url, KEYSTEP_ISSUER: 'https://id.example.com' };
  });
  afterAll(() => t.drop());
  // As the commands and the server read them: sealed under the database's server secret (no keys.otpHmacKey here).
  const stored = async () => upstreamProviderRepository(t.db, await upstreamSecretsKey(t.db, undefined));
  const links = async () => {
    const providers = await stored();
    return federatedLinkRepository(t.db, async (name) => (await providers.find(name))?.issuer);
  };
  const raw = (name: string) => t.db.selectFrom('upstream_providers').select(['client_secret', 'secret_sealed']).where('name', '=', name).executeTakeFirstOrThrow();

  it('adds a provider with its secret from stdin, and never prints the secret', async () => {
    const added = await runCli(['idp', 'add', 'acme', '--issuer', 'https://sso.acme.example', '--client-id', 'keystep', '--client-secret-stdin',
      '--display-name', 'Acme SSO', '--usecase', 'userAttribute', '--user-attribute', 'email', '--domains', 'partners,primary', '--mobile-claim', 'phone_number', '--jit'], env, `${SECRET}\n`);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('callback URL to register there: https://id.example.com/federation/acme/callback');
    const acme = (await (await stored()).find('acme'))!;
    expect(acme).toMatchObject({ clientSecret: SECRET, usecase: 'userAttribute', userAttribute: 'email', domains: ['partners', 'primary'], mobileClaim: 'phone_number', jit: true, displayName: 'Acme SSO' });
    const list = await runCli(['idp', 'list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'acme', secret: 'set', usecase: 'userAttribute', domains: 'partners,primary', source: 'cli' })]);
    expect(list.stdout + (await runCli(['idp', 'list'], env)).stdout).not.toContain(SECRET);
    // A public client at the provider: no secret.
    expect((await runCli(['idp', 'add', 'social', '--issuer', 'http://localhost:4000', '--client-id', 'keystep'], env)).code).toBe(0);
    expect((await (await stored()).find('social'))!.clientSecret).toBeUndefined();
  });

  it('keeps the client secret sealed at rest, bound to its provider: moved to another provider, it does not open', async () => {
    const acme = await raw('acme');
    expect(acme.secret_sealed).toBe(true);
    expect(acme.client_secret).not.toContain(SECRET);
    expect(Buffer.from(acme.client_secret!, 'base64url').toString('latin1')).not.toContain(SECRET);
    await t.db.updateTable('upstream_providers').set({ client_secret: acme.client_secret, secret_sealed: true }).where('name', '=', 'social').execute();
    expect(await (await stored()).find('social')).toMatchObject({ clientSecret: undefined, secretUnreadable: true });
    expect(JSON.parse((await runCli(['idp', 'list', '--json'], env)).stdout)).toContainEqual(expect.objectContaining({ name: 'social', secret: 'unreadable' }));
    await t.db.updateTable('upstream_providers').set({ client_secret: null }).where('name', '=', 'social').execute();
  });

  it('refuses what it cannot use, each with its reason', async () => {
    const add = (args: string[], stdin = '') => runCli(['idp', 'add', ...args], env, stdin);
    expect(await add(['Bad Name', '--issuer', 'https://x.example', '--client-id', 'k'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/provider name/) });
    expect(await add(['plain', '--issuer', 'http://sso.example', '--client-id', 'k'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/must use https/) });
    expect(await add(['nocid', '--issuer', 'https://x.example'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/give --client-id/) });
    expect(await add(['noiss', '--client-id', 'k'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/give --issuer/) });
    expect(await add(['attr', '--issuer', 'https://x.example', '--client-id', 'k', '--usecase', 'userAttribute'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/needs --user-attribute/) });
    expect(await add(['case', '--issuer', 'https://x.example', '--client-id', 'k', '--usecase', 'email'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/--usecase is local, association/) });
    expect(await add(['dom', '--issuer', 'https://x.example', '--client-id', 'k', '--domains', 'Partners!'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/--domains/) });
    expect(await add(['scope', '--issuer', 'https://x.example', '--client-id', 'k', '--scope', 'email'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/include openid/) });
    expect(await add(['empty', '--issuer', 'https://x.example', '--client-id', 'k', '--client-secret-stdin'], '\n')).toMatchObject({ code: 1, stderr: expect.stringMatching(/no client secret/) });
    expect(await add(['acme', '--issuer', 'https://x.example', '--client-id', 'k'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/already exists/) });
    expect((await (await stored()).list()).map((p) => p.name)).toEqual(['acme', 'social']);
  });

  it('lists the config file\'s providers beside the command\'s, the file\'s winning on a name', async () => {
    const providers = JSON.stringify({ corp: { issuer: 'https://corp.example', clientId: 'ks', clientSecret: 'file-secret-value' }, acme: { issuer: 'https://other.example', clientId: 'ks2' } });
    const list = await runCli(['idp', 'list', '--json'], { ...env, KEYSTEP_FEDERATION_PROVIDERS: providers });
    const rows = JSON.parse(list.stdout) as { name: string; source: string; issuer: string }[];
    expect(rows.map((r) => [r.name, r.source, r.issuer])).toEqual([['corp', 'config', 'https://corp.example'], ['acme', 'config', 'https://other.example'], ['social', 'cli', 'http://localhost:4000']]);
    expect(list.stdout).not.toContain('file-secret-value');
    expect(await runCli(['idp', 'add', 'corp', '--issuer', 'https://x.example', '--client-id', 'k'], { ...env, KEYSTEP_FEDERATION_PROVIDERS: providers })).toMatchObject({ code: 1, stderr: expect.stringMatching(/config file already has/) });
  });

  it('sets a client\'s first steps on add and update, known providers only', async () => {
    expect((await runCli(['client', 'add', 'shop', '--redirect-uri', 'https://shop.example/cb', '--first-step', 'password,idp:acme'], env)).code).toBe(0);
    expect((await clientRepository(t.db).find('shop'))!.firstSteps).toEqual(['password', 'idp:acme']);
    expect(await runCli(['client', 'update', 'shop', '--first-step', 'idp:nobody'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/no identity provider nobody/) });
    expect(await runCli(['client', 'update', 'shop', '--first-step', 'passkey'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/neither password nor idp/) });
    expect(await runCli(['client', 'update', 'shop', '--first-step', 'idp:acme,idp:acme'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/twice/) });
    expect(await runCli(['client', 'update', 'shop'], env)).toMatchObject({ stderr: expect.stringMatching(/say what to change: .*--first-step/) });
    expect(await runCli(['client', 'update', 'shop', '--first-step', 'idp:social'], env)).toMatchObject({ code: 0, stdout: 'client shop: first step idp:social\n' });
    expect(JSON.parse((await runCli(['client', 'list', '--json'], env)).stdout)).toEqual([expect.objectContaining({ client_id: 'shop', first_step: 'idp:social' })]);
    expect((await runCli(['client', 'update', 'shop', '--first-step', 'default'], env)).code).toBe(0);
    expect((await clientRepository(t.db).find('shop'))!.firstSteps).toBeNull();
    // With other changes, in the same statement.
    expect((await runCli(['client', 'update', 'shop', '--first-step', 'idp:acme', '--mfa', 'optional'], env)).code).toBe(0);
    expect(await clientRepository(t.db).find('shop')).toMatchObject({ firstSteps: ['idp:acme'], mfa: 'optional' });
    expect(await runCli(['client', 'update', 'nobody', '--first-step', 'default'], env)).toMatchObject({ code: 3, stderr: expect.stringMatching(/no client nobody/) });
  });

  it('links and unlinks an account to an upstream identity; one identity, one account', async () => {
    expect((await runCli(['user', 'add', 'partners/alice'], env, 'alices-long-password\n')).code).toBe(0);
    expect((await runCli(['user', 'add', 'bob'], env, 'bobs-long-password\n')).code).toBe(0);
    const alice = (await accountRepository(t.db).findInDomain('partners', 'alice'))!;
    expect(await runCli(['user', 'link', 'partners/alice', '--idp', 'acme', '--subject', 'sub-1'], env)).toMatchObject({ code: 0, stdout: 'linked partners/alice to acme\n' });
    expect((await (await links()).findLinked('acme', 'sub-1'))!.id).toBe(alice.id);
    expect(await runCli(['user', 'link', 'bob', '--idp', 'acme', '--subject', 'sub-1'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/linked already to partners\/alice/) });
    expect(await runCli(['user', 'link', 'bob', '--idp', 'nobody', '--subject', 'sub-2'], env)).toMatchObject({ code: 3, stderr: expect.stringMatching(/no identity provider nobody/) });
    expect(await runCli(['user', 'link', 'carol', '--idp', 'acme', '--subject', 'sub-2'], env)).toMatchObject({ code: 3, stderr: expect.stringMatching(/no user named carol/) });
    expect(await runCli(['user', 'unlink', 'bob', '--idp', 'acme'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/no link to acme/) });
    expect(await runCli(['user', 'unlink', 'partners/alice', '--idp', 'acme'], env)).toMatchObject({ code: 0, stdout: 'unlinked partners/alice from acme\n' });
    expect(await (await links()).findLinked('acme', 'sub-1')).toBeUndefined();
  });

  it('removes a provider and its links', async () => {
    const bob = (await accountRepository(t.db).findByUsername('bob'))!;
    expect((await runCli(['user', 'link', 'bob', '--idp', 'social', '--subject', 'sub-9'], env)).code).toBe(0);
    expect(await runCli(['idp', 'remove', 'social'], env)).toMatchObject({ code: 0, stdout: 'removed identity provider social\n' });
    expect(await (await links()).listFor(bob.id)).toEqual([]);
    expect(await runCli(['idp', 'remove', 'social'], env)).toMatchObject({ code: 3, stderr: expect.stringMatching(/no identity provider social/) });
    expect(await runCli(['user', 'unlink', 'carol', '--idp', 'acme'], env)).toMatchObject({ code: 3, stderr: expect.stringMatching(/no user named carol/) });
  });

  it('reads a secret an older Keystep stored in plain text, and seals it at the next start; its links get their issuer then', async () => {
    await t.db.insertInto('upstream_providers').values({ name: 'legacy', settings: JSON.stringify({ issuer: 'https://legacy.example', clientId: 'ks' }), client_secret: 'plain-legacy-secret' }).execute();
    expect((await (await stored()).find('legacy'))!.clientSecret).toBe('plain-legacy-secret');
    // A link of an older Keystep, without its issuer: it holds for the issuer acme has at the start.
    const alice = (await accountRepository(t.db).findInDomain('partners', 'alice'))!;
    await t.db.insertInto('federated_links').values({ provider: 'acme', subject: 'old-1', account_id: alice.id, issuer: null }).execute();
    const app = await startTestApp({ database: t });
    try {
      const legacy = await raw('legacy');
      expect(legacy.secret_sealed).toBe(true);
      expect(legacy.client_secret).not.toContain('plain-legacy-secret');
      expect((await (await storedUpstreams(app)).find('legacy'))!.clientSecret).toBe('plain-legacy-secret');
      // The one sealed already is left as it was.
      expect((await raw('acme')).client_secret).not.toBeNull();
      expect((await (await stored()).find('acme'))!.clientSecret).toBe(SECRET);
      expect(app.logLines.join('')).not.toContain('plain-legacy-secret');
      expect((await (await links()).findLinked('acme', 'old-1'))!.id).toBe(alice.id);
      expect(await t.db.selectFrom('federated_links').select('issuer').where('subject', '=', 'old-1').executeTakeFirstOrThrow()).toEqual({ issuer: 'https://sso.acme.example' });
    } finally {
      await app.close();
    }
    expect((await runCli(['idp', 'remove', 'legacy'], env)).code).toBe(0);
  });
});
