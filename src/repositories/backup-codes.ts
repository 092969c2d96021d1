import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { BackupCodeStore } from '../login/factors/backup-code/ports.ts';

export function backupCodeRepository(db: Db): BackupCodeStore & { replaceAll(accountId: string, hashes: string[]): Promise<void>; insertAll(accountId: string, hashes: string[]): Promise<void> } {
  return {
    async listUnused(accountId) {
      const rows = await db.selectFrom('backup_codes').select(['id', 'code_hash'])
        .where('account_id', '=', accountId).where('used_at', 'is', null).execute();
      return rows.map((r) => ({ id: r.id, hash: r.code_hash }));
    },

    async consume(id) {
      // `used_at is null` in the update: a code is good for one login even when two race.
      const result = await db.updateTable('backup_codes').set({ used_at: sql<Date>`now()` })
        .where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async countUnused(accountId) {
      const row = await db.selectFrom('backup_codes').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('account_id', '=', accountId).where('used_at', 'is', null).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Codes added to the account's (an import's, inside the caller's transaction). */
    async insertAll(accountId, hashes) {
      if (hashes.length) await db.insertInto('backup_codes').values(hashes.map((code_hash) => ({ account_id: accountId, code_hash }))).execute();
    },

    /** A fresh set replaces every old code, in one transaction. */
    async replaceAll(accountId, hashes) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('backup_codes').where('account_id', '=', accountId).execute();
        if (hashes.length) await trx.insertInto('backup_codes').values(hashes.map((code_hash) => ({ account_id: accountId, code_hash }))).execute();
      });
    },
  };
}
