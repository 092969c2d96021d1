import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { TotpStore } from '../login/factors/totp/ports.ts';

const FACTOR = 'totp';

export function totpCredentialRepository(db: Db): TotpStore {
  // The credential and the account's note that it has the factor change together.
  const inTransaction = <T>(work: (runner: Db) => Promise<T>) => (db.isTransaction ? work(db) : db.transaction().execute(work));

  return {
    async find(accountId) {
      const row = await db.selectFrom('totp_credentials').selectAll().where('account_id', '=', accountId).executeTakeFirst();
      return row && { accountId: row.account_id, sealedSecret: row.sealed_secret, lastStep: row.last_step, createdAt: row.created_at, lastUsedAt: row.last_used_at };
    },

    async save(accountId, sealedSecret, confirmedStep, at) {
      await inTransaction(async (runner) => {
        await runner.insertInto('totp_credentials')
          .values({ account_id: accountId, sealed_secret: sealedSecret, last_step: confirmedStep, created_at: at, last_used_at: null })
          .onConflict((oc) => oc.column('account_id').doUpdateSet({ sealed_secret: sealedSecret, last_step: confirmedStep, created_at: at, last_used_at: null }))
          .execute();
        await runner.insertInto('account_factors').values({ account_id: accountId, factor: FACTOR, enrolled_at: at, last_used_at: null })
          .onConflict((oc) => oc.columns(['account_id', 'factor']).doUpdateSet({ enrolled_at: at, last_used_at: null }))
          .execute();
      });
    },

    async acceptStep(accountId, step, at) {
      // The condition is in the update: of simultaneous submissions of one code, one changes the row.
      // One statement: the step taken, and the factor's last use noted with the account.
      const result = await sql<{ accepted: string }>`with accepted as (
          update totp_credentials set last_step = ${step}, last_used_at = ${at}
          where account_id = ${accountId} and (last_step is null or last_step < ${step}) returning account_id),
        noted as (update account_factors set last_used_at = ${at}
          where factor = ${FACTOR} and account_id in (select account_id from accepted))
        select count(*) as accepted from accepted`.execute(db);
      return Number(result.rows[0]?.accepted ?? 0) > 0;
    },

    async remove(accountId) {
      return inTransaction(async (runner) => {
        await runner.deleteFrom('account_factors').where('account_id', '=', accountId).where('factor', '=', FACTOR).execute();
        const result = await runner.deleteFrom('totp_credentials').where('account_id', '=', accountId).executeTakeFirst();
        return result.numDeletedRows > 0n;
      });
    },
  };
}
