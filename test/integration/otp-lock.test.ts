import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeconds } from '../../src/shared/clock.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { TestClock } from '../support/sms.ts';

const LOCK_AFTER = 3;
const LOCK_SECONDS = 900;

describe('the lock for wrong codes', () => {
  let database: TestDatabase;
  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(() => database.drop());

  it('starts the count afresh once it has run out: one wrong code does not lock again, lockAfter do', async () => {
    const accounts = accountRepository(database.db);
    const clock = new TestClock(Date.UTC(2026, 5, 1, 12));
    const account = await accounts.create({ username: 'lena', passwordHash: 'x', phone: '+447400123456' });
    // What the code step does with each wrong code: take an attempt before comparing, never clear it.
    const wrongCode = () => {
      const now = clock.now();
      return accounts.reserveOtpAttempt(account.id, now, LOCK_AFTER, addSeconds(now, LOCK_SECONDS));
    };

    for (let i = 1; i <= LOCK_AFTER; i++) expect(await wrongCode()).toEqual({ taken: true, failures: i });
    const lockedUntil = (await accounts.findById(account.id))!.otpLockedUntil!;
    expect(lockedUntil).toEqual(addSeconds(clock.now(), LOCK_SECONDS));
    expect(await wrongCode()).toEqual({ taken: false, lockedUntil });

    clock.advance(LOCK_SECONDS + 1);
    expect(await wrongCode()).toEqual({ taken: true, failures: 1 });
    expect((await accounts.findById(account.id))!.otpLockedUntil).toBeNull();
    for (let i = 2; i <= LOCK_AFTER; i++) expect(await wrongCode()).toEqual({ taken: true, failures: i });
    expect((await accounts.findById(account.id))!.otpLockedUntil).toEqual(addSeconds(clock.now(), LOCK_SECONDS));
    expect((await wrongCode()).taken).toBe(false);
  });
});
