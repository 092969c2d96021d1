import type { Selectable } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { PasskeyCredentialsTable } from '../db/schema.ts';
import type { PasskeyCredential, PasskeyStore } from '../login/factors/passkey/ports.ts';

const fromRow = (row: Selectable<PasskeyCredentialsTable>): PasskeyCredential => ({
  id: row.id, accountId: row.account_id, publicKey: new Uint8Array(row.public_key), counter: Number(row.counter), transports: row.transports,
  backedUp: row.backed_up, deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice', name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at,
});

export function passkeyCredentialRepository(db: Db): PasskeyStore {
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
      const result = await db.insertInto('passkey_credentials')
        .values({ id: c.id, account_id: c.accountId, public_key: c.publicKey, counter: c.counter, transports: c.transports, backed_up: c.backedUp, device_type: c.deviceType, name: c.name, created_at: c.createdAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return result !== undefined;
    },

    async use(accountId, id, counter, backedUp, at) {
      // The condition is in the update: of two assertions with one counter value, one changes the row.
      const result = await db.updateTable('passkey_credentials').set({ counter, backed_up: backedUp, last_used_at: at })
        .where('account_id', '=', accountId).where('id', '=', id)
        // 0 stays 0 for an authenticator that keeps no counter; any other must grow.
        .where('counter', counter === 0 ? '=' : '<', String(counter) as never)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async remove(accountId, id) {
      const result = await db.deleteFrom('passkey_credentials').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
