import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { AuditEvent as AuthEvent } from '../login/ports.ts';

export type { AuthEvent };

export interface StoredAuthEvent extends AuthEvent {
  at: Date;
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

    async listForAccount(accountId: string, limit = 20): Promise<StoredAuthEvent[]> {
      const rows = await db.selectFrom('auth_events').selectAll()
        .where('account_id', '=', accountId).orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r) => ({
        at: r.at, event: r.event, result: r.result as AuthEvent['result'], accountId: r.account_id,
        step: r.step, reason: r.reason, clientId: r.client_id, flowUid: r.flow_uid, ip: r.ip, detail: r.detail,
      }));
    },
  };
}
