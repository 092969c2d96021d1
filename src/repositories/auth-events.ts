import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { AuditEvent as AuthEvent } from '../login/ports.ts';
import { accountName } from '../shared/account-name.ts';

export type { AuthEvent };

export interface StoredAuthEvent extends AuthEvent {
  at: Date;
}

/** Which events an export reads: `at` from `since` (inclusive) to `until` (exclusive), of one account. */
export interface AuditFilter {
  since?: Date;
  until?: Date;
  accountId?: string;
}

/** An exported event: the stored row, with the account's username while the account exists. */
export interface ExportedAuthEvent {
  id: string;
  at: string;
  event: string;
  result: string;
  account_id: string | null;
  username: string | null;
  step: string | null;
  reason: string | null;
  client_id: string | null;
  flow_uid: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

type EventRow = { event: string; result: string; account_id: string | null; step: string | null; reason: string | null; client_id: string | null; flow_uid: string | null; ip: string | null; detail: string };

export function authEventRepository(db: Db) {
  // Several events in every login, so prepared once.
  const insert = prepared((p: EventRow) => db.insertInto('auth_events').values({
    event: p.event, result: p.result, account_id: p.account_id, step: p.step, reason: p.reason, client_id: p.client_id,
    flow_uid: p.flow_uid, ip: p.ip, detail: p.detail,
  }));
  return {
    async record(event: AuthEvent): Promise<void> {
      await insert(db, {
        event: event.event,
        result: event.result,
        account_id: event.accountId ?? null,
        step: event.step ?? null,
        reason: event.reason ?? null,
        client_id: event.clientId ?? null,
        flow_uid: event.flowUid ?? null,
        ip: event.ip ?? null,
        detail: JSON.stringify(event.detail ?? {}),
      });
    },

    /** When the account last had an event of this kind (its last completed sign-in, say). */
    async lastOf(accountId: string, event: string): Promise<Date | undefined> {
      const row = await db.selectFrom('auth_events').select('at').where('account_id', '=', accountId).where('event', '=', event)
        .orderBy('at', 'desc').limit(1).executeTakeFirst();
      return row?.at;
    },

    async listForAccount(accountId: string, limit = 20): Promise<StoredAuthEvent[]> {
      const rows = await db.selectFrom('auth_events').selectAll()
        .where('account_id', '=', accountId).orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r) => ({
        at: r.at, event: r.event, result: r.result as AuthEvent['result'], accountId: r.account_id,
        step: r.step, reason: r.reason, clientId: r.client_id, flowUid: r.flow_uid, ip: r.ip, detail: r.detail,
      }));
    },

    /**
     * The events of the filter in the order they were recorded, one page at a time (keyset on the
     * id), so an export of any size holds one page in memory.
     */
    async *export(filter: AuditFilter, pageSize = 1000): AsyncGenerator<ExportedAuthEvent> {
      let after = '0';
      for (;;) {
        let query = db.selectFrom('auth_events').leftJoin('accounts', 'accounts.id', 'auth_events.account_id')
          .select(['auth_events.id', 'auth_events.at', 'event', 'result', 'account_id', 'accounts.domain', 'accounts.username', 'step', 'reason', 'client_id', 'flow_uid', 'ip', 'detail'])
          .where('auth_events.id', '>', after);
        if (filter.since) query = query.where('auth_events.at', '>=', filter.since);
        if (filter.until) query = query.where('auth_events.at', '<', filter.until);
        if (filter.accountId) query = query.where('account_id', '=', filter.accountId);
        const rows = await query.orderBy('auth_events.id').limit(pageSize).execute();
        for (const { domain, ...r } of rows) {
          // Named as everywhere else: domain/username outside the primary domain.
          yield { ...r, id: String(r.id), at: r.at.toISOString(), username: r.username != null && domain != null ? accountName({ domain, username: r.username }) : null };
        }
        if (rows.length < pageSize) return;
        after = String(rows.at(-1)!.id);
      }
    },

    /** Deletes up to `limit` events recorded before `before` (the retention); returns how many went. */
    async prune(before: Date, limit: number): Promise<number> {
      const result = await db.deleteFrom('auth_events')
        .where('id', 'in', (eb) => eb.selectFrom('auth_events').select('id').where('at', '<', before).limit(limit))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
