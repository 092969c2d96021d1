import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { PasswordAttemptPolicy, PasswordFailureStore } from '../login/factors/password/ports.ts';

type ReserveParams = { key: string; now: Date; throttleAfter: number; maxDelaySeconds: number; lockAfter: number; lockUntil: Date };

export function passwordFailureRepository(db: Db): PasswordFailureStore & { sweep(olderThan: Date, batchSize: number): Promise<number> } {
  // Counts are keyed with the database's own lower(), the one the account lookup and the unique
  // index use: a username that finds an account is counted under that account's key, whatever the
  // letters' case (JavaScript and Postgres lower some letters differently, such as İ).
  const keyOf = (username: unknown) => sql<string>`left(lower(${username}::text), 256)`;
  // Read on every password submitted, so prepared once.
  const find = prepared((p: { key: string }) => db.selectFrom('password_failures').selectAll().where('username_key', '=', keyOf(p.key)));

  // One statement takes the attempt or refuses it, so a burst of simultaneous guesses is counted one
  // by one against the row's lock: the update re-reads the row each guess before it (it waits on the
  // row lock, then re-checks the condition). A lock that ran out counts afresh from zero.
  const reserve = prepared((p: ReserveParams) => {
    const expired = sql<boolean>`(password_failures.locked_until is not null and password_failures.locked_until <= ${p.now})`;
    const before = sql<number>`(case when ${expired} then 0 else password_failures.failures end)`;
    const delay = sql`make_interval(secs => least(power(2, ${before} - ${p.throttleAfter}), ${p.maxDelaySeconds}))`;
    return db.insertInto('password_failures')
      .values({ username_key: keyOf(p.key), failures: 1, last_failure_at: p.now, locked_until: sql`case when 1 >= ${p.lockAfter} then ${p.lockUntil}::timestamptz end` })
      .onConflict((oc) => oc.column('username_key')
        .doUpdateSet({
          failures: sql`${before} + 1`,
          last_failure_at: p.now,
          locked_until: sql`case when ${before} + 1 >= ${p.lockAfter} then ${p.lockUntil}::timestamptz end`,
        })
        .where(sql<boolean>`(password_failures.locked_until is null or ${expired})
          and (${before} < ${p.throttleAfter} or password_failures.last_failure_at + ${delay} <= ${p.now})`))
      .returning(['failures', 'locked_until']);
  });

  const toRecord = (row: { failures: number; last_failure_at: Date; locked_until: Date | null }) =>
    ({ failures: row.failures, lastFailureAt: row.last_failure_at, lockedUntil: row.locked_until });

  return {
    async find(key) {
      const row = (await find(db, { key })).rows[0];
      return row && toRecord(row);
    },

    async reserve(key, now, policy: PasswordAttemptPolicy) {
      const taken = (await reserve(db, { key, now, ...policy })).rows[0];
      if (taken) return { taken: true, failures: taken.failures, lockedUntil: taken.locked_until };
      // Refused: read why (rare, and only for a username under attack or throttled).
      const row = (await find(db, { key })).rows[0];
      return { taken: false, record: row ? toRecord(row) : { failures: 0, lastFailureAt: now, lockedUntil: null } };
    },

    async clear(key) {
      await db.deleteFrom('password_failures').where('username_key', '=', keyOf(key)).execute();
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
