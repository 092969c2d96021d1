import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { LoginFlowRow } from '../db/schema.ts';

/** Keystep's own record of one login in progress, keyed by the provider's interaction uid. */
export interface LoginFlow {
  uid: string;
  accountId: string | null;
  passed: string[];
  amr: string[];
  csrfToken: string;
  data: Record<string, unknown>;
  expiresAt: Date;
  version: number;
}

function toFlow(row: LoginFlowRow): LoginFlow {
  return {
    uid: row.uid,
    accountId: row.account_id,
    passed: row.passed,
    amr: row.amr,
    csrfToken: row.csrf_token,
    data: row.data,
    expiresAt: row.expires_at,
    version: row.version,
  };
}

export function loginFlowRepository(db: Db) {
  return {
    async find(uid: string): Promise<LoginFlow | undefined> {
      const row = await db.selectFrom('login_flows').selectAll()
        .where('uid', '=', uid).where('expires_at', '>', sql<Date>`now()`).executeTakeFirst();
      return row && toFlow(row);
    },

    /** Creates the flow, or returns the one a concurrent request created first. */
    async findOrCreate(uid: string, csrfToken: string, expiresAt: Date): Promise<LoginFlow> {
      await db.insertInto('login_flows')
        .values({ uid, csrf_token: csrfToken, expires_at: expiresAt })
        .onConflict((oc) => oc.column('uid').doNothing())
        .execute();
      const row = await db.selectFrom('login_flows').selectAll().where('uid', '=', uid).executeTakeFirstOrThrow();
      return toFlow(row);
    },

    /**
     * Saves the flow only if nobody saved it since it was read (compare-and-set on version). Two
     * requests racing in one login (say, two passwords) cannot both move it on: the later one loses.
     */
    async save(flow: Pick<LoginFlow, 'uid' | 'accountId' | 'passed' | 'amr' | 'data' | 'version'>): Promise<boolean> {
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

export type LoginFlowRepository = ReturnType<typeof loginFlowRepository>;
