import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { SmsLog } from '../login/ports.ts';
import type { SendRecord } from '../sms/port.ts';


/** One row per SMS Keystep tried to send; the number is stored masked. */
export function smsMessageRepository(db: Db): SmsLog & { record(record: SendRecord): Promise<void> } {
  return {
    async record(r) {
      const outcome = {
        status: r.status, http_status: r.httpStatus ?? null, provider_message_id: r.providerMessageId ?? null,
        error: r.error ?? null, duration_ms: r.durationMs,
      };
      if (r.id) {
        await db.updateTable('sms_messages').set(outcome).where('id', '=', r.id).execute();
        return;
      }
      await db.insertInto('sms_messages').values({
        at: r.at, account_id: r.accountId, flow_uid: r.flowUid, purpose: r.purpose, destination: r.destination, ...outcome,
      }).execute();
    },

    async reserve({ accountId, flowUid, destination, ip, at, account, perIp, global }) {
      return db.transaction().execute(async (trx) => {
        // Serialises the count-then-insert per account, so parallel logins cannot overspend its budget.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`sms:${accountId}`}, 0))`.execute(trx);
        // The three budgets in one statement over the widest window.
        const from = [account.since, perIp.since, global.since].reduce((a, b) => (a < b ? a : b));
        const counts = await sql<{ account: string; ip: string; global: string }>`
          select count(*) filter (where account_id = ${accountId} and at > ${account.since}) as account,
                 count(*) filter (where ip = ${ip} and at > ${perIp.since}) as ip,
                 count(*) filter (where at > ${global.since}) as global
          from sms_messages where at > ${from}`.execute(trx);
        const row = counts.rows[0]!;
        if (Number(row.account) >= account.limit) return { refused: 'account' as const };
        if (ip && Number(row.ip) >= perIp.limit) return { refused: 'ip' as const };
        if (Number(row.global) >= global.limit) return { refused: 'global' as const };
        const inserted = await trx.insertInto('sms_messages')
          .values({ at, account_id: accountId, flow_uid: flowUid, ip, purpose: 'otp', destination, status: 'reserved' })
          .returning('id').executeTakeFirstOrThrow();
        return { id: inserted.id };
      });
    },

    async release(id) {
      await db.deleteFrom('sms_messages').where('id', '=', id).where('status', '=', 'reserved').execute();
    },
  };
}
