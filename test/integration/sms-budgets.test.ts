import { createSecretKey } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { smsReservation, type SmsBudgetPolicy } from '../../src/login/sms-codes/budgets.ts';
import type { Reserved } from '../../src/login/sms-codes/ports.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { smsAbuseRepository } from '../../src/repositories/sms-abuse.ts';
import { smsMessageRepository } from '../../src/repositories/sms-messages.ts';
import type { Random } from '../../src/shared/random.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { smsOtpSettings, testBudgets } from '../support/login-fakes.ts';
import { TestClock } from '../support/sms.ts';

const key = createSecretKey(Buffer.alloc(32, 3));
/** Randomness whose fraction (for the back-off's jitter) is always `f`. */
const fixed = (f: number): Random => ({ bytes: (n) => { const b = Buffer.alloc(n); b.writeUInt16BE(Math.floor(f * 65_536), 0); return b; }, int: () => 0 });
const NUMBER = (i: number) => `+4474009${String(i).padStart(5, '0')}`;
const wide = { limit: 100_000, windowSeconds: 3600 };

describe('the SMS budgets in Postgres', () => {
  let database: TestDatabase;
  let clock: TestClock;
  let accounts: string[];
  beforeAll(async () => {
    database = await createTestDatabase();
    const repo = accountRepository(database.db);
    accounts = [];
    for (let i = 0; i < 60; i++) accounts.push((await repo.create({ username: `pump-${i}`, passwordHash: 'x' })).id);
  });
  afterAll(() => database.drop());
  beforeEach(async () => {
    await database.db.deleteFrom('sms_messages').execute();
    await database.db.deleteFrom('sms_pauses').execute();
    clock = new TestClock(Date.UTC(2026, 11, 3, 12));
  });

  /** Budgets as wide as can be but for those a test narrows. */
  function policy(over: Partial<SmsBudgetPolicy> = {}): SmsBudgetPolicy {
    const base = testBudgets(smsOtpSettings, { windowSeconds: 3600, ipSendLimit: 100_000, globalSendLimit: 100_000 }, {
      perLogin: 100, account: wide, perDay: 100_000,
      pumping: { enabled: false, windowSeconds: 3600, graceSeconds: 300, threshold: 0.2, prefixMinSent: 10, countryMinSent: 50 },
    });
    return { ...base, ...over };
  }

  let flows = 0;
  function reserve(p: SmsBudgetPolicy, r: { account?: number; to?: string; ip?: string | null; flow?: string; random?: Random } = {}): Promise<Reserved> {
    const to = r.to ?? NUMBER(0);
    return smsMessageRepository(database.db).reserve(smsReservation(p, key, r.random ?? fixed(0), {
      accountId: accounts[r.account ?? 0]!, flowUid: r.flow ?? `flow-${++flows}`, ip: r.ip === undefined ? '203.0.113.9' : r.ip, destination: 'masked', to, now: clock.now(),
    }));
  }

  async function taken(n: number, p: SmsBudgetPolicy, each: (i: number) => Parameters<typeof reserve>[1]): Promise<Reserved[]> {
    const out: Reserved[] = [];
    for (let i = 0; i < n; i++) {
      out.push(await reserve(p, each(i)));
      clock.advance(1);
    }
    return out;
  }

  it('refuses past each budget, says when it frees, and counts only sends that reached the gateway or may have', async () => {
    const cases: Array<[string, Partial<SmsBudgetPolicy>, (i: number) => Parameters<typeof reserve>[1]]> = [
      ['login', { perLogin: 3 }, (i) => ({ account: i, to: NUMBER(i), flow: 'one-login' })],
      ['account', { account: { limit: 3, windowSeconds: 3600 } }, (i) => ({ to: NUMBER(i) })],
      ['number', { number: { limit: 3, windowSeconds: 3600 } }, (i) => ({ account: i })],
      ['prefix', { prefix: { limit: 3, windowSeconds: 3600, hiddenDigits: 4 } }, (i) => ({ account: i, to: NUMBER(i) })],
      ['address', { address: { limit: 3, windowSeconds: 3600 } }, (i) => ({ account: i, to: NUMBER(i * 10_000) })],
      ['country', { country: { limit: 100, windowSeconds: 3600, limits: { GB: 3 } } }, (i) => ({ account: i, to: NUMBER(i * 10_000), ip: `198.51.100.${i}` })],
      ['hour', { hour: { limit: 3, windowSeconds: 3600 } }, (i) => ({ account: i, to: `+3361234${String(i).padStart(4, '0')}`, ip: `198.51.100.${i}` })],
      ['day', { perDay: 3 }, (i) => ({ account: i, to: `+3361234${String(i).padStart(4, '0')}`, ip: `198.51.100.${i}` })],
    ];
    for (const [name, over, each] of cases) {
      await database.db.deleteFrom('sms_messages').execute();
      const p = policy(over);
      const first = clock.now();
      const results = await taken(3, p, each);
      expect(results.every((r) => 'id' in r), name).toBe(true);
      const window = name === 'day' ? 86_400 : name === 'login' ? 86_400 : 3600;
      expect(await reserve(p, each(3)), name).toEqual({ refused: name, retryAt: new Date(first.getTime() + window * 1000) });
      // A send that surely did not go out (the gateway refused the connection, the circuit was open) costs nothing.
      const last = results[2] as { id: string };
      await database.db.updateTable('sms_messages').set({ status: 'unreached' }).where('id', '=', last.id).execute();
      expect('id' in (await reserve(p, each(3))), name).toBe(true);
    }
  });

  it('counts an IPv6 client by its /64, as the request limit does: one subscriber has all its addresses', async () => {
    const p = policy({ address: { limit: 3, windowSeconds: 3600 } });
    const results = await taken(4, p, (i) => ({ account: i, to: NUMBER(i * 10_000), ip: `2001:db8:1:2::${i + 1}` }));
    expect(results.slice(0, 3).every((r) => 'id' in r)).toBe(true);
    expect(results[3]).toMatchObject({ refused: 'address' });
    // Another /64 has its own budget; IPv4 addresses are counted one by one.
    expect(await reserve(p, { account: 10, to: NUMBER(50_000), ip: '2001:db8:1:3::1' })).toHaveProperty('id');
    expect(await reserve(p, { account: 11, to: NUMBER(60_000), ip: '198.51.100.1' })).toHaveProperty('id');
  });

  it('holds a budget under a burst: 50 simultaneous sends to one range from 50 accounts and addresses', async () => {
    const p = policy({ prefix: { limit: 7, windowSeconds: 3600, hiddenDigits: 4 } });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => reserve(p, { account: i, to: NUMBER(i), ip: `198.51.100.${i}` })));
    expect(results.filter((r) => 'id' in r)).toHaveLength(7);
    expect(results.filter((r) => 'refused' in r && r.refused === 'prefix')).toHaveLength(43);
  });

  it('backs off sends to one account or one number: 1 minute doubling to 32, stretched by the jitter', async () => {
    const p = policy({ backoff: { after: 3, minSeconds: 60, maxSeconds: 1920, jitter: 0.5, windowSeconds: 86_400 } });
    // A fraction of 0.5 of a jitter of 0.5: every wait is 1.25 times its base.
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const at = clock.now();
      // Each from its own account: the number alone carries the back-off.
      const result = await reserve(p, { account: i, random: fixed(0.5) });
      expect('id' in result, `send ${i + 1}`).toBe(true);
      const next = await reserve(p, { account: i + 30, random: fixed(0.5) });
      if ('refused' in next) {
        expect(next.refused).toBe('backoff');
        const retryAt = (next as { retryAt: Date }).retryAt;
        waits.push((retryAt.getTime() - at.getTime()) / 1000);
        clock.advance((retryAt.getTime() - clock.now().getTime()) / 1000);
      } else {
        waits.push(0);
        await database.db.deleteFrom('sms_messages').where('id', '=', next.id).execute();
        clock.advance(1);
      }
    }
    expect(waits).toEqual([0, 0, 75, 150, 300, 600, 1200, 2400, 2400, 2400]);
    // The account carries it as well: its third send, to a third number, sets the wait (no jitter drawn this time).
    for (const i of [101, 102, 103]) expect(await reserve(p, { account: 40, to: NUMBER(i) })).toHaveProperty('id');
    expect(await reserve(p, { account: 40, to: NUMBER(104) })).toMatchObject({ refused: 'backoff', retryAt: new Date(clock.now().getTime() + 60_000) });
  });

  it('pauses a range whose codes are rarely entered, once enough had time to be, and starts afresh when resumed', async () => {
    const pumping = { enabled: true, windowSeconds: 3600, graceSeconds: 300, threshold: 0.2, prefixMinSent: 10, countryMinSent: 1000 };
    const p = policy({ pumping });
    const db = database.db;
    // Ten codes to one range, one of them entered: a ratio of 0.1.
    const sent = await taken(10, p, (i) => ({ account: i, to: NUMBER(i) }));
    await db.updateTable('sms_messages').set({ entered_at: clock.now() }).where('id', '=', (sent[0] as { id: string }).id).execute();
    // Still within the grace: their users may be typing.
    expect(await reserve(p, { account: 20, to: NUMBER(20) })).toHaveProperty('id');
    clock.advance(299);
    // The eleventh is still young: ten judged, ratio 0.1, below 0.2.
    expect(await reserve(p, { account: 21, to: NUMBER(21) })).toEqual({ refused: 'paused', scope: 'prefix', range: '+44740090', pausedNow: { sent: 10, entered: 1 } });
    // Every number of the range is refused now; another range is not.
    expect(await reserve(p, { account: 22, to: NUMBER(99) })).toEqual({ refused: 'paused', scope: 'prefix', range: '+44740090' });
    expect(await reserve(p, { account: 23, to: '+447400812345' })).toHaveProperty('id');

    const abuse = smsAbuseRepository(db);
    expect((await abuse.status(clock.now(), 3600)).pauses).toEqual([expect.objectContaining({ scope: 'prefix', range: '+44740090', reason: 'automatic', sent: 10, entered: 1 })]);
    expect(await abuse.resume('prefix', '+44740090', clock.now())).toBe(true);
    expect(await abuse.resume('prefix', '+44740090', clock.now())).toBe(false);
    // The sends that paused it are not judged again.
    clock.advance(400);
    expect(await reserve(p, { account: 24, to: NUMBER(24) })).toHaveProperty('id');

    // A pause by hand of a country, or of a shorter prefix, covers its numbers.
    expect(await abuse.pause('country', 'FR', clock.now())).toBe(true);
    expect(await abuse.pause('country', 'FR', clock.now())).toBe(false);
    expect(await reserve(p, { account: 25, to: '+33612345678' })).toEqual({ refused: 'paused', scope: 'country', range: 'FR' });
    await abuse.pause('prefix', '+4474', clock.now());
    expect(await reserve(p, { account: 26, to: '+447400812346' })).toEqual({ refused: 'paused', scope: 'prefix', range: '+4474' });
  });

  it('judges the ratio by the codes that may have arrived: those receipts report undelivered or failed do not count', async () => {
    const pumping = { enabled: true, windowSeconds: 3600, graceSeconds: 300, threshold: 0.2, prefixMinSent: 10, countryMinSent: 10 };
    const p = policy({ pumping });
    const db = database.db;
    // A provider's outage: ten codes to one range, the provider took them, the receipts say none arrived.
    const sent = await taken(10, p, (i) => ({ account: i, to: NUMBER(i) }));
    await db.updateTable('sms_messages').set({ status: 'sent', delivery: 'undelivered' }).where('id', 'in', sent.map((r) => (r as { id: string }).id)).execute();
    clock.advance(301);
    // Its users could not enter codes they never got: neither the range nor the country is paused,
    // so the new code they ask for (through another provider) goes out.
    expect(await reserve(p, { account: 20, to: NUMBER(20) })).toHaveProperty('id');
    expect(await db.selectFrom('sms_pauses').selectAll().execute()).toEqual([]);
    // Codes that may have arrived and were not entered still pause it.
    await db.updateTable('sms_messages').set({ delivery: 'delivered' }).where('id', 'in', sent.map((r) => (r as { id: string }).id)).execute();
    expect(await reserve(p, { account: 21, to: NUMBER(21) })).toMatchObject({ refused: 'paused', scope: 'prefix', pausedNow: { sent: 10, entered: 0 } });
  });

  it('abuse status counts the global budget over its own window', async () => {
    await taken(3, policy(), (i) => ({ account: i, to: NUMBER(i) }));
    clock.advance(5400);
    const abuse = smsAbuseRepository(database.db);
    // sms.velocityWindowSeconds of two hours: the three sends of 90 minutes ago still count against it.
    expect((await abuse.status(clock.now(), 3600, 5, 7200)).sentInGlobalWindow).toBe(3);
    expect((await abuse.status(clock.now(), 3600, 5, 3600)).sentInGlobalWindow).toBe(0);
  });

  it('pauses a country on its own volume', async () => {
    const p = policy({ pumping: { enabled: true, windowSeconds: 3600, graceSeconds: 0, threshold: 0.5, prefixMinSent: 1000, countryMinSent: 6 } });
    // Six ranges of one country, none with enough volume of its own.
    await taken(6, p, (i) => ({ account: i, to: `+44740${i}900123` }));
    clock.advance(1);
    expect(await reserve(p, { account: 7, to: '+447406900123' })).toMatchObject({ refused: 'paused', scope: 'country', range: 'GB', pausedNow: { sent: 6, entered: 0 } });
  });
});
