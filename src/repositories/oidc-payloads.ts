import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connection.ts';
import { changedRows, prepared } from '../db/prepared.ts';

export interface PayloadRecord {
  payload: Record<string, unknown>;
  consumedAt: Date | null;
}

type Row = {
  model: string; id: string; payload: string; grant_id: string | null; uid: string | null; user_code: string | null; account_id: string | null;
  issued_at: Date | null;
};

const text = (value: unknown) => (typeof value === 'string' ? value : null);
const field = (value: unknown, key: string) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined);

// Account ids are uuids: anything else names no account, is not stored as one (and, should an older
// row hold it, is never cast).
const ACCOUNT_UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * The account a row belongs to, kept in its own column so that revoking an account reads no
 * payload. An interaction carries it in the login result it is handing over, or in the session
 * it started from.
 */
function accountOf(model: string, payload: Record<string, unknown>): string | null {
  const id = model !== 'Interaction'
    ? text(payload.accountId)
    : text(field(field(payload.result, 'login'), 'accountId')) ?? text(field(payload.session, 'accountId'));
  return id !== null && new RegExp(ACCOUNT_UUID).test(id) ? id : null;
}

/**
 * When what a row stands for was proven: a session's sign-in, a code's or refresh token's
 * authentication, else the row's first issue (the provider keeps `iat` across saves).
 */
function issuedAt(model: string, payload: Record<string, unknown>): Date | null {
  // An interaction handing a login over, or asking for consent after one, is dated by that login
  // (Keystep sets its time).
  const login = model === 'Interaction'
    ? field(field(payload.result, 'login'), 'ts') ?? field(field(payload.lastSubmission, 'login'), 'ts')
    : undefined;
  const seconds = [login, payload.loginTs, payload.authTime, payload.iat].find((v) => typeof v === 'number' && Number.isFinite(v));
  return typeof seconds === 'number' ? new Date(seconds * 1000) : null;
}

export function oidcPayloadRepository(db: Db) {
  // A row of an account signed out after it was issued is gone, even if a request that read it
  // before wrote it back (see the sign-out-cutoff migration). The provider dates rows in whole
  // seconds, so a row dated in the sign-out's own second goes too; a sign-in completed after the
  // sign-out is dated the next second (interaction-routes.ts, signInSecond). A grant is dated by its
  // creation, which Keystep cannot move: one created in that second is kept (what it issues is dated
  // by its sign-in, and checked by that).
  const notSignedOut = sql<boolean>`not exists (
    select 1 from accounts a
    where a.id = (case when oidc_payloads.account_id ~ ${ACCOUNT_UUID} then oidc_payloads.account_id::uuid end)
      and a.signed_out_at is not null
      and (oidc_payloads.issued_at is null or oidc_payloads.issued_at < date_trunc('second', a.signed_out_at)
        + case when oidc_payloads.model = 'Grant' then interval '0 seconds' else interval '1 second' end))`;
  const live = sql<boolean>`(expires_at is null or expires_at > now()) and ${notSignedOut}`;
  const select = (model: string) =>
    db.selectFrom('oidc_payloads').select(['payload', 'consumed_at']).where('model', '=', model).where(live);
  const toRecord = (row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined) =>
    row && { payload: row.payload, consumedAt: row.consumed_at };

  // The provider's storage runs about half of a login's statements, so these are prepared once.
  const upsert = (values: Row, expiresAt: RawBuilder<Date> | null) => db.insertInto('oidc_payloads')
    .values({
      model: values.model, id: values.id, payload: values.payload, grant_id: values.grant_id, uid: values.uid,
      user_code: values.user_code, account_id: values.account_id, issued_at: values.issued_at, expires_at: expiresAt,
    })
    .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({
      payload: values.payload, grant_id: values.grant_id, uid: values.uid, user_code: values.user_code, account_id: values.account_id,
      // Never earlier than it was: a session kept through a sign-out was marked as issued after it.
      issued_at: sql`greatest(oidc_payloads.issued_at, excluded.issued_at)`,
      expires_at: expiresAt,
    }));
  const upsertExpiring = prepared((p: Row & { seconds: number }) => upsert(p, sql<Date>`now() + make_interval(secs => ${p.seconds})`));
  const upsertLasting = prepared((p: Row) => upsert(p, null));
  const findById = prepared((p: { model: string; id: string }) => select(p.model).where('id', '=', p.id));
  // A rotated session keeps its uid; the newest row is the live one.
  const findByUid = prepared((p: { model: string; uid: string }) => select(p.model).where('uid', '=', p.uid).orderBy('expires_at', 'desc').limit(1));
  // Conditional update: of two concurrent uses of one code, only one changes the row.
  const consume = prepared((p: { model: string; id: string }) => db.updateTable('oidc_payloads')
    .set({ consumed_at: sql<Date>`now()` })
    .where('model', '=', p.model).where('id', '=', p.id).where('consumed_at', 'is', null));
  const destroy = prepared((p: { model: string; id: string }) => db.deleteFrom('oidc_payloads').where('model', '=', p.model).where('id', '=', p.id));

  return {
    async upsert(model: string, id: string, payload: Record<string, unknown>, expiresInSeconds: number | undefined): Promise<void> {
      const values: Row = {
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
        account_id: accountOf(model, payload),
        issued_at: issuedAt(model, payload),
      };
      await (expiresInSeconds ? upsertExpiring(db, { ...values, seconds: expiresInSeconds }) : upsertLasting(db, values));
    },

    async find(model: string, id: string): Promise<PayloadRecord | undefined> {
      return toRecord((await findById(db, { model, id })).rows[0]);
    },

    async findByUid(model: string, uid: string): Promise<PayloadRecord | undefined> {
      return toRecord((await findByUid(db, { model, uid })).rows[0]);
    },

    async findByUserCode(model: string, userCode: string): Promise<PayloadRecord | undefined> {
      return toRecord(await select(model).where('user_code', '=', userCode).executeTakeFirst());
    },

    /** Marks the row consumed; false when it was already consumed (or is gone). */
    async consume(model: string, id: string): Promise<boolean> {
      return changedRows(await consume(db, { model, id }));
    },

    /** Deletes the row; false when it was already gone. */
    async destroy(model: string, id: string): Promise<boolean> {
      return changedRows(await destroy(db, { model, id }));
    },

    /**
     * Every session, grant, token and interaction of an account ("sign out everywhere"), but the
     * session `keepSessionUid` names (a session keeps its uid when its id rotates). Returns the
     * models of the rows that went.
     */
    async revokeAccount(accountId: string, keepSessionUid?: string): Promise<string[]> {
      let query = db.deleteFrom('oidc_payloads').where('account_id', '=', accountId);
      if (keepSessionUid !== undefined) {
        query = query.where((eb) => eb.or([eb('model', '<>', 'Session'), eb('uid', 'is distinct from', keepSessionUid)]));
      }
      return (await query.returning('model').execute()).map((row) => row.model);
    },

    /** How many live rows of each model belong to the account (sessions, grants, tokens). */
    async countForAccount(accountId: string): Promise<Record<string, number>> {
      const rows = await db.selectFrom('oidc_payloads').select(['model', sql<string>`count(*)::text`.as('n')])
        .where('account_id', '=', accountId).where(live).groupBy('model').execute();
      return Object.fromEntries(rows.map((r) => [r.model, Number(r.n)]));
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
