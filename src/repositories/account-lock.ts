import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { AccountLock } from '../login/ports.ts';

/**
 * One change to an account's factors at a time, across every instance: a Postgres advisory lock,
 * held on a connection of its own while the change runs (its statements may use others). Postgres
 * lets go of it should that connection die.
 */
export function accountLock(db: Db): AccountLock {
  return (accountId, work) => db.connection().execute(async (conn) => {
    const key = `account-factors:${accountId}`;
    await sql`select pg_advisory_lock(hashtextextended(${key}, 0))`.execute(conn);
    try {
      return await work();
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`.execute(conn);
    }
  });
}
