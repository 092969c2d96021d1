import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Db } from '../db/connection.ts';
import type { Random } from '../shared/random.ts';

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

/**
 * The server's one secret, whose purposes `src/shared/keys.ts` derives: `keys.otpHmacKey` when it is
 * configured, else made once and kept in the database (the app at its start and the commands that
 * seal something read the same one).
 */
export async function serverSecret(secrets: ReturnType<typeof serverSecretRepository>, configured: string | undefined, random: Random): Promise<KeyObject> {
  return createSecretKey(configured
    ? Buffer.from(configured, 'utf8')
    : Buffer.from(await secrets.getOrCreate('otp_hmac_key', () => random.bytes(32).toString('base64url')), 'base64url'));
}
