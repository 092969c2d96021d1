import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { SmsLog } from '../login/sms-codes/ports.ts';
import type { SendRecord } from '../sms/port.ts';


/** One row per SMS Keystep tried to send; the number is stored masked. */
export function smsMessageRepository(db: Db): SmsLog & { record(record: SendRecord): Promise<void>; settleAbandoned(before: Date, limit: number): Promise<number> } {
  // One reservation and one outcome per SMS login: prepared once.
  const finish = prepared((p: { id: string; status: string; http_status: number | null; provider_message_id: string | null; gateway: string | null; error: string | null; duration_ms: number }) =>
    db.updateTable('sms_messages')
      .set({ status: p.status, http_status: p.http_status, provider_message_id: p.provider_message_id, gateway: p.gateway, error: p.error, duration_ms: p.duration_ms })
      .where('id', '=', p.id));

  return {
    async record(r) {
      const outcome = {
        status: r.status, http_status: r.httpStatus ?? null, provider_message_id: r.providerMessageId ?? null,
        gateway: r.gateway ?? null, error: r.error ?? null, duration_ms: r.durationMs,
      };
      if (r.id) {
        await finish(db, { id: r.id, ...outcome });
        return;
      }
      await db.insertInto('sms_messages').values({
        at: r.at, account_id: r.accountId, flow_uid: r.flowUid, purpose: r.purpose, destination: r.destination, ...outcome,
      }).execute();
    },

    async reserve({ accountId, flowUid, destination, ip, at, account, perIp, global }) {
      // keystep_reserve_sms (a migration) takes the reservations' lock, counts the three budgets and
      // inserts the reservation only if none is spent, in one round trip.
      const result = await sql<{ sent_by_account: number; sent_by_ip: number; sent_globally: number; reservation_id: string | null; retry_at: Date | null }>`
        select * from keystep_reserve_sms(${accountId}, ${flowUid}, ${ip}::text, ${at}, ${destination},
          ${account.since}, ${account.limit}, ${perIp.since}, ${perIp.limit}, ${global.since}, ${global.limit})`.execute(db);
      const row = result.rows[0]!;
      if (row.reservation_id) return { id: row.reservation_id };
      const retryAt = row.retry_at;
      if (row.sent_by_account >= account.limit) return { refused: 'account' as const, retryAt };
      if (row.sent_by_ip >= perIp.limit) return { refused: 'ip' as const, retryAt };
      return { refused: 'global' as const, retryAt };
    },

    async release(id) {
      await db.deleteFrom('sms_messages').where('id', '=', id).where('status', '=', 'reserved').execute();
    },

    /**
     * Settles up to `limit` reservations older than `before` that nothing ever recorded an outcome for
     * (the process ended while sending): the SMS may have gone, so they stay counted, as `uncertain`.
     */
    async settleAbandoned(before: Date, limit: number): Promise<number> {
      const result = await db.updateTable('sms_messages')
        .set({ status: 'uncertain', error: 'no outcome was recorded: Keystep stopped while sending' })
        .where('id', 'in', (eb) => eb.selectFrom('sms_messages').select('id').where('status', '=', 'reserved').where('at', '<', before).limit(limit))
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
