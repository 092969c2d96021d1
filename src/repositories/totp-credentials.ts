import type { Db } from '../db/connection.ts';
import type { TotpStore } from '../login/factors/totp/ports.ts';

export function totpCredentialRepository(db: Db): TotpStore {
  return {
    async find(accountId) {
      const row = await db.selectFrom('totp_credentials').selectAll().where('account_id', '=', accountId).executeTakeFirst();
      return row && { accountId: row.account_id, sealedSecret: row.sealed_secret, lastStep: row.last_step, createdAt: row.created_at, lastUsedAt: row.last_used_at };
    },

    async save(accountId, sealedSecret, confirmedStep, at) {
      await db.insertInto('totp_credentials')
        .values({ account_id: accountId, sealed_secret: sealedSecret, last_step: confirmedStep, created_at: at, last_used_at: null })
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ sealed_secret: sealedSecret, last_step: confirmedStep, created_at: at, last_used_at: null }))
        .execute();
    },

    async acceptStep(accountId, step, at) {
      // The condition is in the update: of simultaneous submissions of one code, one changes the row.
      const result = await db.updateTable('totp_credentials').set({ last_step: step, last_used_at: at })
        .where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async remove(accountId) {
      const result = await db.deleteFrom('totp_credentials').where('account_id', '=', accountId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
