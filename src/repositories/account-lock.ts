import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { AccountLock } from '../login/ports.ts';

/**
 * One change to an account's factors at a time, across every instance: a Postgres advisory lock,
 * held on a connection of its own while the change runs (its statements may use others). Taken
 * with `pg_try_advisory_lock`: a change that finds another under way is refused at once rather
 * than waiting, since waiters would each hold a pool connection the running change may need.
 * Postgres lets go of the lock should that connection die.
 */
export function accountLock(db: Db): AccountLock {
  return (accountId, work) => db.connection().execute(async (conn) => {
    const key = `account-factors:${accountId}`;
    const taken = await sql<{ taken: boolean }>`select pg_try_advisory_lock(hashtextextended(${key}, 0)) as taken`.execute(conn);
    if (!taken.rows[0]?.taken) return { ran: false as const };
    try {
      return { ran: true as const, value: await work() };
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`.execute(conn);
    }
  });
}
