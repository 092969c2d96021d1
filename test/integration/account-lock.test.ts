import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removalGuard } from '../../src/login/last-factor.ts';
import { accountLock } from '../../src/repositories/account-lock.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { passkeyCredentialRepository } from '../../src/repositories/passkey-credentials.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

function deferred() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => { release = resolve; });
  return { done, release };
}

describe('one change to an account\'s factors at a time', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(); });
  afterAll(() => t.drop());

  it('holds a second change of the same account until the first is done, and lets another account\'s through', async () => {
    const lock = accountLock(t.db);
    const order: string[] = [];
    const first = deferred();
    const a1 = lock('account-a', async () => { order.push('a1 start'); await first.done; order.push('a1 end'); });
    // Wait until the first holds the lock: its work has started.
    while (!order.includes('a1 start')) await new Promise((resolve) => setImmediate(resolve));
    const a2 = lock('account-a', async () => { order.push('a2'); });
    const b = lock('account-b', async () => { order.push('b'); });
    await b;
    expect(order).toEqual(['a1 start', 'b']);
    first.release();
    await Promise.all([a1, a2]);
    expect(order).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
    // A change that fails lets go of the lock too.
    await expect(lock('account-a', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await lock('account-a', async () => 'next')).toBe('next');
  });

  it('of two removals of an account\'s last two passkeys at once, lets one through and refuses the other', async () => {
    const accounts = accountRepository(t.db);
    const passkeys = passkeyCredentialRepository(t.db);
    const id = (await accounts.create({ username: 'uli', passwordHash: 'x', phone: null })).id;
    const credential = (name: string) => ({ id: name, accountId: id, publicKey: new Uint8Array([1]), counter: 0, transports: [], backedUp: false, deviceType: 'singleDevice' as const, name, createdAt: new Date() });
    await passkeys.add(credential('one'));
    await passkeys.add(credential('two'));
    // This account signs in only with a passkey: the last one may not go.
    const guard = removalGuard(async (after) => after.factors.some((f) => f.id === 'passkey'), accounts, accountLock(t.db));
    const remove = (name: string) => guard(id, async (fresh) => {
      const all = await passkeys.list(fresh.id);
      if (!all.some((p) => p.id === name)) return undefined;
      return all.length > 1 ? fresh : { ...fresh, factors: fresh.factors.filter((f) => f.id !== 'passkey') };
    }, () => passkeys.remove(id, name));
    const results = await Promise.all([remove('one'), remove('two')]);
    expect(results.sort()).toEqual(['last', 'removed']);
    expect(await passkeys.list(id)).toHaveLength(1);
  });
});
