import type { Db } from '../db/connection.ts';
import type { SmsLog } from '../login/ports.ts';

/** One row per SMS Keystep tried to send; the number is stored masked. */
export interface SmsRecord {
  at: Date;
  accountId: string | null;
  flowUid: string | null;
  purpose: string;
  destination: string;
  status: 'sent' | 'failed';
  httpStatus?: number | null;
  providerMessageId?: string | null;
  error?: string | null;
  durationMs: number;
}

export function smsMessageRepository(db: Db): SmsLog & { record(record: SmsRecord): Promise<void> } {
  return {
    async record(r) {
      await db.insertInto('sms_messages').values({
        at: r.at, account_id: r.accountId, flow_uid: r.flowUid, purpose: r.purpose, destination: r.destination,
        status: r.status, http_status: r.httpStatus ?? null, provider_message_id: r.providerMessageId ?? null,
        error: r.error ?? null, duration_ms: r.durationMs,
      }).execute();
    },

    async countForAccountSince(accountId, since) {
      const row = await db.selectFrom('sms_messages').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('account_id', '=', accountId).where('at', '>', since).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
