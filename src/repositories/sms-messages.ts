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

    async reserve({ accountId, flowUid, destination, at, since, limit }) {
      return db.transaction().execute(async (trx) => {
        // Serialises the count-then-insert per account, so parallel logins cannot overspend the budget.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`sms:${accountId}`}, 0))`.execute(trx);
        const row = await trx.selectFrom('sms_messages').select((eb) => eb.fn.countAll<string>().as('n'))
          .where('account_id', '=', accountId).where('at', '>', since).executeTakeFirstOrThrow();
        if (Number(row.n) >= limit) return undefined;
        const inserted = await trx.insertInto('sms_messages')
          .values({ at, account_id: accountId, flow_uid: flowUid, purpose: 'otp', destination, status: 'reserved' })
          .returning('id').executeTakeFirstOrThrow();
        return inserted.id;
      });
    },

    async release(id) {
      await db.deleteFrom('sms_messages').where('id', '=', id).where('status', '=', 'reserved').execute();
    },
  };
}
