import { sql, type Selectable } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { PasskeyCredentialsTable } from '../db/schema.ts';
import type { PasskeyCredential, PasskeyStore } from '../login/factors/passkey/ports.ts';

const fromRow = (row: Selectable<PasskeyCredentialsTable>): PasskeyCredential => ({
  id: row.id, accountId: row.account_id, publicKey: new Uint8Array(row.public_key), counter: Number(row.counter), transports: row.transports,
  backedUp: row.backed_up, deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice', name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at,
});

const FACTOR = 'passkey';

export function passkeyCredentialRepository(db: Db): PasskeyStore {
  // The credentials and the account's note that it has the factor change together.
  const inTransaction = <T>(work: (runner: Db) => Promise<T>) => (db.isTransaction ? work(db) : db.transaction().execute(work));

  return {
    async list(accountId) {
      const rows = await db.selectFrom('passkey_credentials').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    },

    async find(accountId, id) {
      const row = await db.selectFrom('passkey_credentials').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    async add(c) {
      return inTransaction(async (runner) => {
        const result = await runner.insertInto('passkey_credentials')
          .values({ id: c.id, account_id: c.accountId, public_key: c.publicKey, counter: c.counter, transports: c.transports, backed_up: c.backedUp, device_type: c.deviceType, name: c.name, created_at: c.createdAt })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!result) return false;
        await runner.insertInto('account_factors').values({ account_id: c.accountId, factor: FACTOR, enrolled_at: c.createdAt, last_used_at: null })
          .onConflict((oc) => oc.columns(['account_id', 'factor']).doNothing())
          .execute();
        return true;
      });
    },

    async use(accountId, id, counter, backedUp, at) {
      // The condition is in the update: of two assertions with one counter value, one changes the
      // row. 0 stays 0 for an authenticator that keeps no counter; any other must grow. One
      // statement: the counter taken, and the factor's last use noted with the account.
      const grew = counter === 0 ? sql`counter = 0` : sql`counter < ${counter}`;
      const result = await sql<{ used: string }>`with used as (
          update passkey_credentials set counter = ${counter}, backed_up = ${backedUp}, last_used_at = ${at}
          where account_id = ${accountId} and id = ${id} and ${grew} returning account_id),
        noted as (update account_factors set last_used_at = ${at}
          where factor = ${FACTOR} and account_id in (select account_id from used))
        select count(*) as used from used`.execute(db);
      return Number(result.rows[0]?.used ?? 0) > 0;
    },

    async remove(accountId, id) {
      return inTransaction(async (runner) => {
        const result = await runner.deleteFrom('passkey_credentials').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
        // The last one gone: the account no longer has the factor.
        await runner.deleteFrom('account_factors').where('account_id', '=', accountId).where('factor', '=', FACTOR)
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('passkey_credentials').select('id').where('account_id', '=', accountId))))
          .execute();
        return result.numDeletedRows > 0n;
      });
    },
  };
}
