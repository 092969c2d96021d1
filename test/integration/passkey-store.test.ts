import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { passkeyCredentialRepository } from '../../src/repositories/passkey-credentials.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('the passkey store', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());

  const credential = (accountId: string, id: string, counter: number) => ({
    id, accountId, publicKey: new Uint8Array([1, 2, 3]), counter, transports: ['internal', 'hybrid'], backedUp: false, deviceType: 'singleDevice' as const, name: id, createdAt: new Date('2026-03-01T09:00:00Z'),
  });

  it('takes a counter only when it grows (0 stays 0), for its own account, and of racing equal counters one', async () => {
    const accounts = accountRepository(t.db);
    const store = passkeyCredentialRepository(t.db);
    const a = (await accounts.create({ username: 'pia', passwordHash: 'x', phone: null })).id;
    const b = (await accounts.create({ username: 'rob', passwordHash: 'x', phone: null })).id;
    expect(await store.add(credential(a, 'with-counter', 7))).toBe(true);
    expect(await store.add(credential(a, 'no-counter', 0))).toBe(true);
    // A credential id is one authenticator's: not a second time, not for another account.
    expect(await store.add(credential(b, 'with-counter', 0))).toBe(false);
    const at = new Date('2026-03-02T09:00:00Z');
    expect(await store.use(a, 'with-counter', 7, false, at)).toBe(false);
    expect(await store.use(a, 'with-counter', 3, false, at)).toBe(false);
    expect(await store.use(a, 'with-counter', 0, false, at)).toBe(false);
    expect(await store.use(b, 'with-counter', 8, false, at)).toBe(false);
    const racing = await Promise.all([8, 8, 8].map((n) => store.use(a, 'with-counter', n, true, at)));
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await store.use(a, 'no-counter', 0, false, at)).toBe(true);
    expect(await store.use(a, 'no-counter', 0, false, at)).toBe(true);
    const found = await store.find(a, 'with-counter');
    expect(found).toMatchObject({ counter: 8, backedUp: true, lastUsedAt: at, transports: ['internal', 'hybrid'], publicKey: new Uint8Array([1, 2, 3]) });
    expect((await store.list(a)).map((c) => c.id)).toEqual(['no-counter', 'with-counter']);
    expect(await store.remove(b, 'with-counter')).toBe(false);
    // Gone with the account.
    await t.db.deleteFrom('accounts').where('id', '=', a).execute();
    expect(await store.list(a)).toEqual([]);
  });

  it('tells the account read that the account has the factor: from its first passkey, until its last is gone, with its last use', async () => {
    const accounts = accountRepository(t.db);
    const store = passkeyCredentialRepository(t.db);
    const id = (await accounts.create({ username: 'sol', passwordHash: 'x', phone: null })).id;
    expect((await accounts.findById(id))!.factors).toEqual([]);
    await store.add(credential(id, 'phone', 1));
    await store.add(credential(id, 'laptop', 1));
    expect((await accounts.findById(id))!.factors).toEqual([{ id: 'passkey', enrolledAt: new Date('2026-03-01T09:00:00Z'), lastUsedAt: null }]);
    const at = new Date('2026-03-03T10:00:00Z');
    expect(await store.use(id, 'phone', 2, false, at)).toBe(true);
    expect((await accounts.findByUsername('SOL'))!.factors).toEqual([{ id: 'passkey', enrolledAt: new Date('2026-03-01T09:00:00Z'), lastUsedAt: at }]);
    await store.remove(id, 'phone');
    expect((await accounts.findById(id))!.factors.map((f) => f.id)).toEqual(['passkey']);
    await store.remove(id, 'laptop');
    expect((await accounts.findById(id))!.factors).toEqual([]);
  });

  it('lists and removes a user\'s passkeys from the command line (a lost device), with an audit record', async () => {
    const accounts = accountRepository(t.db);
    const store = passkeyCredentialRepository(t.db);
    const id = (await accounts.create({ username: 'val', passwordHash: 'x', phone: null })).id;
    await store.add({ ...credential(id, 'val-phone', 0), name: 'Phone' });
    await store.add({ ...credential(id, 'val-key', 0), name: 'Key', backedUp: true });
    const env = { DATABASE_URL: t.url };
    const listed = await runCli(['user', 'passkey', 'list', 'val'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^Key\tadded 2026-03-01 09:00\tlast used never\tsynced\nPhone\tadded 2026-03-01 09:00\tlast used never\tdevice-bound\n$/);
    expect(await runCli(['user', 'passkey', 'remove', 'val', 'Phone'], env)).toMatchObject({ code: 0, stdout: 'passkey "Phone" of val removed\n' });
    expect((await store.list(id)).map((k) => k.name)).toEqual(['Key']);
    expect(await runCli(['user', 'passkey', 'remove', 'val', 'Phone'], env)).toMatchObject({ code: 0, stdout: 'val has no passkey named "Phone"\n' });
    expect(await runCli(['user', 'passkey', 'remove', 'nobody', 'Key'], env)).toMatchObject({ code: 3 });
    const events = await t.db.selectFrom('auth_events').select(['event', 'detail']).where('account_id', '=', id).execute();
    expect(events).toEqual([{ event: 'user.passkey_removed', detail: { count: 1 } }]);
    // The last one gone from the command line: the account no longer has the factor.
    await runCli(['user', 'passkey', 'remove', 'val', 'Key'], env);
    expect((await accounts.findById(id))!.factors).toEqual([]);
  });
});
