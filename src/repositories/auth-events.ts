import type { Db } from '../db/connection.ts';

import type { AuditEvent as AuthEvent } from '../login/ports.ts';

export type { AuthEvent };

export interface StoredAuthEvent extends AuthEvent {
  at: Date;
}

export function authEventRepository(db: Db) {
  return {
    async record(event: AuthEvent): Promise<void> {
      await db.insertInto('auth_events').values({
        event: event.event,
        result: event.result,
        account_id: event.accountId ?? null,
        step: event.step ?? null,
        reason: event.reason ?? null,
        client_id: event.clientId ?? null,
        flow_uid: event.flowUid ?? null,
        ip: event.ip ?? null,
        detail: JSON.stringify(event.detail ?? {}),
      }).execute();
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
