import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';

export interface PayloadRecord {
  payload: Record<string, unknown>;
  consumedAt: Date | null;
}

export function oidcPayloadRepository(db: Db) {
  const live = sql<boolean>`(expires_at is null or expires_at > now())`;
  const select = (model: string) =>
    db.selectFrom('oidc_payloads').select(['payload', 'consumed_at']).where('model', '=', model).where(live);
  const toRecord = (row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined) =>
    row && { payload: row.payload, consumedAt: row.consumed_at };

  return {
    async upsert(model: string, id: string, payload: Record<string, unknown>, expiresInSeconds: number | undefined): Promise<void> {
      const values = {
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
        expires_at: expiresInSeconds ? (sql`now() + make_interval(secs => ${expiresInSeconds})` as never) : null,
      };
      await db.insertInto('oidc_payloads').values(values)
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({
          payload: values.payload,
          grant_id: values.grant_id,
          uid: values.uid,
          user_code: values.user_code,
          expires_at: values.expires_at,
        }))
        .execute();
    },

    async find(model: string, id: string): Promise<PayloadRecord | undefined> {
      return toRecord(await select(model).where('id', '=', id).executeTakeFirst());
    },

    async findByUid(model: string, uid: string): Promise<PayloadRecord | undefined> {
      // A rotated session keeps its uid; the newest row is the live one.
      return toRecord(await select(model).where('uid', '=', uid).orderBy('expires_at', 'desc').executeTakeFirst());
    },

    async findByUserCode(model: string, userCode: string): Promise<PayloadRecord | undefined> {
      return toRecord(await select(model).where('user_code', '=', userCode).executeTakeFirst());
    },

    /** Marks the row consumed; false when it was already consumed (or is gone). */
    async consume(model: string, id: string): Promise<boolean> {
      // Conditional update: of two concurrent uses of one code, only one changes the row.
      const result = await db.updateTable('oidc_payloads')
        .set({ consumed_at: sql`now()` as never })
        .where('model', '=', model).where('id', '=', id).where('consumed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async destroy(model: string, id: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute();
    },

    /** Every session, grant and token of an account: "sign out everywhere". */
    async revokeAccount(accountId: string): Promise<number> {
      const result = await db.deleteFrom('oidc_payloads').where(sql<boolean>`payload->>'accountId' = ${accountId}`).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async revokeGrant(grantId: string): Promise<void> {
      await db.deleteFrom('oidc_payloads')
        .where((eb) => eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]))
        .execute();
    },

    async revokeByGrantId(model: string, grantId: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('grant_id', '=', grantId).execute();
    },

    /** Deletes up to batchSize expired rows; returns how many went. */
    async sweepExpired(batchSize: number): Promise<number> {
      const result = await sql<{ count: string }>`
        with gone as (
          delete from oidc_payloads where ctid in (
            select ctid from oidc_payloads where expires_at < now() limit ${batchSize}
          ) returning 1
        ) select count(*)::text as count from gone`.execute(db);
      return Number(result.rows[0]?.count ?? 0);
    },
  };
}
