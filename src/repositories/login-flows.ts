import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { LoginFlowRow } from '../db/schema.ts';
import type { FlowStore, LoginFlow } from '../login/ports.ts';

function toFlow(row: LoginFlowRow): LoginFlow {
  return {
    uid: row.uid,
    accountId: row.account_id,
    passed: row.passed,
    amr: row.amr,
    csrfToken: row.csrf_token,
    data: row.data,
    version: row.version,
  };
}

export function loginFlowRepository(db: Db): FlowStore & { sweepExpired(batchSize: number): Promise<number> } {
  return {
    async find(uid: string): Promise<LoginFlow | undefined> {
      const row = await db.selectFrom('login_flows').selectAll()
        .where('uid', '=', uid).where('expires_at', '>', sql<Date>`now()`).executeTakeFirst();
      return row && toFlow(row);
    },

    async findOrCreate(uid: string, csrfToken: string, expiresAt: Date): Promise<LoginFlow> {
      const existing = await db.selectFrom('login_flows').selectAll().where('uid', '=', uid).executeTakeFirst();
      if (existing) return toFlow(existing);
      const created = await db.insertInto('login_flows')
        .values({ uid, csrf_token: csrfToken, expires_at: expiresAt })
        .onConflict((oc) => oc.column('uid').doNothing())
        .returningAll()
        .executeTakeFirst();
      // Another request created it between the two statements: theirs is the one.
      return toFlow(created ?? (await db.selectFrom('login_flows').selectAll().where('uid', '=', uid).executeTakeFirstOrThrow()));
    },

    async save(flow: LoginFlow): Promise<boolean> {
      const result = await db.updateTable('login_flows')
        .set({
          account_id: flow.accountId,
          passed: flow.passed,
          amr: flow.amr,
          data: JSON.stringify(flow.data),
          version: flow.version + 1,
          updated_at: sql`now()` as never,
        })
        .where('uid', '=', flow.uid)
        .where('version', '=', flow.version)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async saveData(flow) {
      const result = await db.updateTable('login_flows')
        .set({ data: JSON.stringify(flow.data), updated_at: sql`now()` as never })
        .where('uid', '=', flow.uid)
        .where('version', '=', flow.version)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async remove(uid: string): Promise<void> {
      await db.deleteFrom('login_flows').where('uid', '=', uid).execute();
    },

    async sweepExpired(batchSize: number): Promise<number> {
      const result = await db.deleteFrom('login_flows')
        .where('uid', 'in', (eb) => eb.selectFrom('login_flows').select('uid')
          .where('expires_at', '<', sql<Date>`now()`).limit(batchSize))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
