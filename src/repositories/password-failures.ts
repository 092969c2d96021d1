import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { PasswordFailureStore } from '../login/ports.ts';

export function passwordFailureRepository(db: Db): PasswordFailureStore & { sweep(olderThan: Date, batchSize: number): Promise<number> } {
  // Read on every password submitted, so prepared once.
  const find = prepared((p: { key: string }) => db.selectFrom('password_failures').selectAll().where('username_key', '=', p.key));
  return {
    async find(key) {
      const row = (await find(db, { key })).rows[0];
      return row && { failures: row.failures, lastFailureAt: row.last_failure_at, lockedUntil: row.locked_until };
    },

    async record(key, at, lockAfter, lockUntil) {
      // One statement: parallel wrong guesses each count, and the lock is set by whichever reaches lockAfter.
      const row = await db.insertInto('password_failures')
        .values({ username_key: key, failures: 1, last_failure_at: at, locked_until: lockAfter <= 1 ? lockUntil : null })
        .onConflict((oc) => oc.column('username_key').doUpdateSet({
          failures: sql`password_failures.failures + 1`,
          last_failure_at: at,
          locked_until: sql`case when password_failures.failures + 1 >= ${lockAfter} then ${lockUntil}::timestamptz else password_failures.locked_until end`,
        }))
        .returning('failures')
        .executeTakeFirstOrThrow();
      return row.failures;
    },

    async clear(key) {
      await db.deleteFrom('password_failures').where('username_key', '=', key).execute();
    },

    /** Forgets old counts that hold no lock (unknown usernames would otherwise pile up). */
    async sweep(olderThan, batchSize) {
      const result = await db.deleteFrom('password_failures')
        .where('username_key', 'in', (eb) => eb.selectFrom('password_failures').select('username_key')
          .where('last_failure_at', '<', olderThan)
          .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', olderThan)]))
          .limit(batchSize))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
