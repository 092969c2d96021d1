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

  it('refuses a second change of the same account while the first runs, and lets another account\'s through', async () => {
    const lock = accountLock(t.db);
    const started = deferred();
    const first = deferred();
    const a1 = lock('account-a', async () => { started.release(); await first.done; return 'a1'; });
    await started.done;
    // Refused at once rather than waiting: a waiter would hold a pool connection the first may need.
    expect(await lock('account-a', async () => 'a2')).toEqual({ ran: false });
    expect(await lock('account-b', async () => 'b')).toEqual({ ran: true, value: 'b' });
    first.release();
    expect(await a1).toEqual({ ran: true, value: 'a1' });
    expect(await lock('account-a', async () => 'a3')).toEqual({ ran: true, value: 'a3' });
    // A change that fails lets go of the lock too.
    await expect(lock('account-a', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await lock('account-a', async () => 'next')).toEqual({ ran: true, value: 'next' });
  });

  it('holds under a burst: of 20 simultaneous changes of one account, the ones refused never overlap the one running', async () => {
    const lock = accountLock(t.db);
    let running = 0;
    let most = 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => lock('account-c', async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return true;
    })));
    expect(most).toBe(1);
    expect(results.filter((r) => r.ran).length).toBeGreaterThanOrEqual(1);
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
    // Refused either way: as the last one (after the other), or as busy (during it).
    expect(results.filter((r) => r === 'removed')).toHaveLength(1);
    expect(results.filter((r) => r === 'last' || r === 'busy')).toHaveLength(1);
    expect(await passkeys.list(id)).toHaveLength(1);
  });
});
