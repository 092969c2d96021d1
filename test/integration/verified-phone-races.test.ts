import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { federatedLinkRepository } from '../../src/repositories/federated-links.ts';
import { burst } from '../support/bursts.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * `smsOtp.phoneUnique` as the stores keep it: every save of a verified number (a code entered at
 * login or on the account page, a just-in-time account's upstream number) checks, as part of the
 * save, that no other account has it verified. Simultaneous saves of one number: one wins.
 */
describe('saves of one verified number racing (phoneUnique)', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(); });
  afterAll(() => t.drop());

  const verifiedOn = (phone: string) => accountRepository(t.db).findIdsByVerifiedPhone(phone);

  it('of saves on several accounts and just-in-time accounts made with it, exactly one account gets it', async () => {
    const accounts = accountRepository(t.db);
    const links = federatedLinkRepository(t.db, async () => 'https://upstream.example');
    const PHONE = '+447400414141';
    const ids = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await accounts.create({ username: `race${i}`, passwordHash: 'x' })).id));
    const results = await burst(12, async (i) => {
      if (i % 2 === 0) return { kind: 'save' as const, id: ids[i / 2]!, won: await accounts.saveVerifiedPhone(ids[i / 2]!, PHONE, new Date(), true) };
      const made = await links.createLinked({ provider: 'acme', subject: `sub-${i}`, domain: 'primary', username: `jit${i}`, phone: PHONE, phoneUnique: true });
      return { kind: 'jit' as const, id: made!.id, won: made!.phone === PHONE };
    });
    const winners = results.filter((r) => r.won);
    expect(winners).toHaveLength(1);
    expect(await verifiedOn(PHONE)).toEqual([winners[0]!.id]);
    // The losers saved nothing: the accounts keep no number, the just-in-time ones were made without it.
    for (const r of results.filter((x) => !x.won)) expect((await accounts.findById(r.id))!.phone).toBeNull();
    // The winner saving it again is no conflict; another account still cannot.
    expect(await accounts.saveVerifiedPhone(winners[0]!.id, PHONE, new Date(), true)).toBe(true);
    const other = results.find((r) => !r.won && r.kind === 'save')!;
    expect(await accounts.saveVerifiedPhone(other.id, PHONE, new Date(), true)).toBe(false);
  });

  it('without phoneUnique, saves neither wait nor refuse', async () => {
    const accounts = accountRepository(t.db);
    const PHONE = '+447400424242';
    const ids = await Promise.all(Array.from({ length: 4 }, async (_, i) => (await accounts.create({ username: `free${i}`, passwordHash: 'x' })).id));
    expect(await burst(4, (i) => accounts.saveVerifiedPhone(ids[i]!, PHONE, new Date(), false))).toEqual([true, true, true, true]);
    expect((await verifiedOn(PHONE)).sort()).toEqual([...ids].sort());
  });
});
