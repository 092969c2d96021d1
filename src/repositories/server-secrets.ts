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
  };
}
