import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { SmsLog } from '../login/ports.ts';
import type { SendRecord } from '../sms/port.ts';


/** One row per SMS Keystep tried to send; the number is stored masked. */
export function smsMessageRepository(db: Db): SmsLog & { record(record: SendRecord): Promise<void> } {
  // One reservation and one outcome per SMS login: prepared once.
  const finish = prepared((p: { id: string; status: string; http_status: number | null; provider_message_id: string | null; error: string | null; duration_ms: number }) =>
    db.updateTable('sms_messages')
      .set({ status: p.status, http_status: p.http_status, provider_message_id: p.provider_message_id, error: p.error, duration_ms: p.duration_ms })
      .where('id', '=', p.id));

  return {
    async record(r) {
      const outcome = {
        status: r.status, http_status: r.httpStatus ?? null, provider_message_id: r.providerMessageId ?? null,
        error: r.error ?? null, duration_ms: r.durationMs,
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
      return db.transaction().execute(async (trx) => {
        // Serialises the count-then-insert per account, so parallel logins cannot overspend its budget.
        // The lock comes first, in its own statement: the counting statement's snapshot then sees every
        // send of the login that held the lock before.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`sms:${accountId}`}, 0))`.execute(trx);
        // The three budgets over the widest window, and the reservation only if none is spent.
        const from = [account.since, perIp.since, global.since].reduce((a, b) => (a < b ? a : b));
        const result = await sql<{ account: number; ip: number; global: number; id: string | null }>`
          with counts as (
            select count(*) filter (where account_id = ${accountId} and at > ${account.since})::int as account,
                   count(*) filter (where ip = ${ip}::text and at > ${perIp.since})::int as ip,
                   count(*) filter (where at > ${global.since})::int as global
            from sms_messages where at > ${from}
          ), reserved as (
            insert into sms_messages (at, account_id, flow_uid, ip, purpose, destination, status)
            select ${at}, ${accountId}, ${flowUid}, ${ip}::text, 'otp', ${destination}, 'reserved' from counts
            where account < ${account.limit} and (${ip}::text is null or ip < ${perIp.limit}) and global < ${global.limit}
            returning id
          )
          select counts.*, (select id::text from reserved) as id from counts`.execute(trx);
        const row = result.rows[0]!;
        if (row.id) return { id: row.id };
        if (row.account >= account.limit) return { refused: 'account' as const };
        if (row.ip >= perIp.limit) return { refused: 'ip' as const };
        return { refused: 'global' as const };
      });
    },

    async release(id) {
      await db.deleteFrom('sms_messages').where('id', '=', id).where('status', '=', 'reserved').execute();
    },
  };
}
