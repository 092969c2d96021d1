import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { changedRows as changed, prepared } from '../db/prepared.ts';
import type { LoginFlowRow } from '../db/schema.ts';
import { parseFlowData } from '../login/flow.ts';
import type { FlowStore, LoginFlow } from '../login/ports.ts';

// The account was disabled, or signed out everywhere since the login's first factor read it (its
// count moved on, or the factor never gave one): what the login proved may predate a new password
// or number. The count, unlike a time, cannot be read before a sign-out commits and pass after it.
const accountEnded = (accountId: unknown, signOuts: unknown) => sql`select 1 from accounts a where a.id = ${accountId}::uuid
  and (a.disabled_at is not null or a.sign_outs is distinct from ${signOuts}::integer)`;

/** How long a request that is handing a login over holds it before another may try again. */
const HANDOVER_LEASE_SECONDS = 30;

// Judged on the database's clock, the one that set the mark.
const handingOver = sql<boolean>`coalesce(handover_at > now() - make_interval(secs => ${HANDOVER_LEASE_SECONDS}), false)`.as('handing_over');

function toFlow(row: LoginFlowRow & { handing_over: boolean }): LoginFlow {
  return {
    uid: row.uid,
    accountId: row.account_id,
    passed: row.passed,
    amr: row.amr,
    data: parseFlowData(row.data),
    version: row.version,
    accountSignOuts: row.account_sign_outs,
    handingOver: row.handing_over,
  };
}

export function loginFlowRepository(db: Db): FlowStore & { sweepExpired(batchSize: number): Promise<number> } {
  // Every request of a login reads its flow and most move it on, so these are prepared once.
  const live = prepared((p: { uid: string }) => db.selectFrom('login_flows').selectAll().select(handingOver)
    .where('uid', '=', p.uid).where('expires_at', '>', sql<Date>`now()`));
  // The flow as it is, created if it was not there: one statement on every page of a login, and no
  // write when it exists. A flow a racing request has just created is not in this statement's
  // snapshot; findOrCreate then asks again.
  const open = prepared((p: { uid: string; expiresAt: Date }) => db
    .with('created', (qb) => qb.insertInto('login_flows')
      .values({ uid: p.uid, expires_at: p.expiresAt })
      .onConflict((oc) => oc.column('uid').doNothing())
      .returningAll())
    .selectFrom('created').selectAll().select(handingOver)
    .unionAll((eb) => eb.selectFrom('login_flows').selectAll().select(handingOver).where('uid', '=', p.uid)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('created').select('uid'))))));
  const save = prepared((p: { uid: string; version: number; next: number; accountId: string | null; accountSignOuts: number | null; passed: string[]; amr: string[]; data: string }) =>
    db.updateTable('login_flows')
      .set({ account_id: p.accountId, account_sign_outs: p.accountSignOuts, passed: p.passed, amr: p.amr, data: p.data, version: p.next, updated_at: sql<Date>`now()` })
      .where('uid', '=', p.uid).where('version', '=', p.version));
  const saveData = prepared((p: { uid: string; version: number; data: string }) => db.updateTable('login_flows')
    .set({ data: p.data, updated_at: sql<Date>`now()` })
    .where('uid', '=', p.uid).where('version', '=', p.version));
  // Saves the finished login and marks it as being handed over, in one conditional statement: of any
  // number of requests racing to finish it, exactly one changes the row. A mark older than the lease
  // (its request died before the provider took the login) may be taken again.
  // The same statement notes the second factors the login used, only once it is claimed: no
  // statement is added to a login for it.
  const claim = prepared((p: { uid: string; version: number; next: number; accountId: string | null; accountSignOuts: number | null; passed: string[]; amr: string[]; data: string; used: string[]; usedAt: Date | null }) =>
    db.with('claimed', (qb) => qb.updateTable('login_flows')
      .set({
        account_id: p.accountId, account_sign_outs: p.accountSignOuts, passed: p.passed, amr: p.amr, data: p.data, version: p.next,
        handover_at: sql<Date>`now()`, updated_at: sql<Date>`now()`,
      })
      .where('uid', '=', p.uid).where('version', '=', p.version)
      .where((eb) => eb.or([eb('handover_at', 'is', null), eb('handover_at', '<', sql<Date>`now() - make_interval(secs => ${HANDOVER_LEASE_SECONDS})`)]))
      .where(sql<boolean>`not exists (${accountEnded(p.accountId, p.accountSignOuts)})`)
      .returning(['account_id', sql<Date | null>`(select a.signed_out_at from accounts a where a.id = ${p.accountId}::uuid)`.as('signed_out_at')]))
      .with('noted', (qb) => qb.insertInto('account_factors')
        .columns(['account_id', 'factor', 'enrolled_at', 'last_used_at'])
        .expression((eb) => eb.selectFrom('claimed')
          .innerJoin('accounts', 'accounts.id', 'claimed.account_id')
          .innerJoin(sql<{ factor: string }>`unnest(${p.used}::text[])`.as('factor'), (join) => join.onTrue())
          .select([
            'accounts.id', sql<string>`factor`.as('factor'),
            sql<Date>`${p.usedAt}::timestamptz`.as('enrolled_at'), sql<Date>`${p.usedAt}::timestamptz`.as('last_used_at'),
          ]))
        .onConflict((oc) => oc.columns(['account_id', 'factor']).doUpdateSet({ last_used_at: (eb) => eb.ref('excluded.last_used_at') })))
      .selectFrom('claimed').select('signed_out_at'));
  const ended = prepared((p: { uid: string; accountId: string; accountSignOuts: number | null }) => db.deleteFrom('login_flows')
    .where('uid', '=', p.uid).where(sql<boolean>`exists (${accountEnded(p.accountId, p.accountSignOuts)})`));
  const release = prepared((p: { uid: string }) => db.updateTable('login_flows').set({ handover_at: null }).where('uid', '=', p.uid));
  const remove = prepared((p: { uid: string }) => db.deleteFrom('login_flows').where('uid', '=', p.uid));

  return {
    async find(uid: string): Promise<LoginFlow | undefined> {
      const row = (await live(db, { uid })).rows[0];
      return row && toFlow(row);
    },

    async findOrCreate(uid: string, expiresAt: Date): Promise<LoginFlow> {
      for (let round = 0; round < 2; round++) {
        const row = (await open(db, { uid, expiresAt })).rows[0];
        if (row) return toFlow(row);
      }
      throw new Error('the login flow could not be opened');
    },

    async save(flow: LoginFlow): Promise<boolean> {
      return changed(await save(db, {
        uid: flow.uid, version: flow.version, next: flow.version + 1, accountId: flow.accountId, accountSignOuts: flow.accountSignOuts,
        passed: flow.passed, amr: flow.amr, data: JSON.stringify(flow.data),
      }));
    },

    async claimHandover(flow: LoginFlow, used?: { factors: readonly string[]; at: Date }) {
      const row = (await claim(db, {
        uid: flow.uid, version: flow.version, next: flow.version + 1, accountId: flow.accountId, accountSignOuts: flow.accountSignOuts,
        passed: flow.passed, amr: flow.amr, data: JSON.stringify(flow.data), used: [...(used?.factors ?? [])], usedAt: used?.at ?? null,
      })).rows[0];
      if (row) return { claimed: true as const, signedOutAt: row.signed_out_at };
      // Lost to a racing request, or refused because the account ended it (then it starts again).
      const gone = flow.accountId !== null && changed(await ended(db, { uid: flow.uid, accountId: flow.accountId, accountSignOuts: flow.accountSignOuts }));
      return { claimed: false as const, ended: gone };
    },

    async releaseHandover(uid: string): Promise<void> {
      await release(db, { uid });
    },

    async saveData(flow) {
      return changed(await saveData(db, { uid: flow.uid, version: flow.version, data: JSON.stringify(flow.data) }));
    },

    async remove(uid: string): Promise<boolean> {
      return changed(await remove(db, { uid }));
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
