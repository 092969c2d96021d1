import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { BudgetName, SmsLog } from '../login/sms-codes/ports.ts';
import type { SendRecord } from '../sms/port.ts';


/** What keystep_take_sms answers. */
interface Taken {
  id?: string;
  refused?: BudgetName | 'backoff' | 'paused';
  retry_at?: string | null;
  scope?: 'prefix' | 'country';
  range?: string;
  paused_now?: boolean;
  sent?: number;
  entered?: number;
}

/** One row per SMS Keystep tried to send; the number is stored masked. */
export function smsMessageRepository(db: Db): SmsLog & { record(record: SendRecord): Promise<void>; settleAbandoned(before: Date, limit: number): Promise<number>; prune(before: Date, limit: number): Promise<number> } {
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

    async reserve(r) {
      // keystep_take_sms (a migration) takes the reservations' lock, checks the pauses and the
      // pumping breaker, counts every budget and the back-off, and inserts the reservation only if
      // all allow it, in one round trip.
      const iso = (d: Date) => d.toISOString();
      const budgets = Object.fromEntries(Object.entries(r.budgets).map(([name, b]) => [name, { since: iso(b.since), limit: b.limit }]));
      const input = {
        account_id: r.accountId, flow_uid: r.flowUid, ip: r.ip, at: iso(r.at), destination: r.destination,
        number_key: r.numberKey, prefix: r.prefix, country: r.country, budgets,
        backoff: { since: iso(r.backoff.since), after: r.backoff.after, min_seconds: r.backoff.minSeconds, max_seconds: r.backoff.maxSeconds, jitter: r.backoff.jitter },
        breaker: {
          enabled: r.breaker.enabled, since: iso(r.breaker.since), until: iso(r.breaker.until), threshold: r.breaker.threshold,
          prefix_min_sent: r.breaker.prefixMinSent, country_min_sent: r.breaker.countryMinSent,
        },
      };
      const result = await sql<{ taken: Taken }>`select keystep_take_sms(${JSON.stringify(input)}::jsonb) as taken`.execute(db);
      const taken = result.rows[0]!.taken;
      if (taken.id) return { id: taken.id };
      if (taken.refused === 'paused') {
        return { refused: 'paused', scope: taken.scope!, range: taken.range!, ...(taken.paused_now ? { pausedNow: { sent: taken.sent!, entered: taken.entered! } } : {}) };
      }
      return { refused: taken.refused!, retryAt: taken.retry_at ? new Date(taken.retry_at) : null };
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

    /** Deletes up to `limit` rows sent before `before` (the retention, never inside a budget window). */
    async prune(before: Date, limit: number): Promise<number> {
      const result = await db.deleteFrom('sms_messages')
        .where('id', 'in', (eb) => eb.selectFrom('sms_messages').select('id').where('at', '<', before).where('status', '<>', 'reserved').limit(limit))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
