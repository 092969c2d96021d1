import type { Db } from '../db/connection.ts';

export function serverSecretRepository(db: Db) {
  return {
    /**
     * Returns the stored secret, creating it on first use. Insert-if-absent then read means every
     * instance that starts at once ends up with the same value.
     */
    async getOrCreate<T>(name: string, generate: () => Promise<T> | T): Promise<T> {
      const existing = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirst();
      if (existing) return existing.value as T;
      const value = await generate();
      await db.insertInto('server_secrets').values({ name, value: JSON.stringify(value) })
        .onConflict((oc) => oc.column('name').doNothing()).execute();
      const row = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
      return row.value as T;
    },

    /** Replaces the stored value with what `change` makes of it, the row locked meanwhile; undefined when there is none. */
    async update<T>(name: string, change: (current: T) => T): Promise<T | undefined> {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('server_secrets').select('value').where('name', '=', name).forUpdate().executeTakeFirst();
        if (!row) return undefined;
        const value = change(row.value as T);
        await trx.updateTable('server_secrets').set({ value: JSON.stringify(value) }).where('name', '=', name).execute();
        return value;
      });
    },
  };
}
