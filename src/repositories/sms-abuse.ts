import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { accountName } from '../shared/account-name.ts';

const COUNTED = ['reserved', 'sent', 'uncertain'];

export type RangeScope = 'prefix' | 'country';

export interface RangePause {
  scope: RangeScope;
  range: string;
  reason: string;
  changedAt: Date;
  /** What the breaker saw when it paused the range (none for a pause by hand). */
  sent: number | null;
  entered: number | null;
}

export interface SourceCount {
  key: string;
  sent: number;
  entered: number;
}

export interface AbuseStatus {
  /** Counted sends within the global budget's window (`sms.velocityWindowSeconds`). */
  sentInGlobalWindow: number;
  sentLastDay: number;
  pauses: RangePause[];
  countries: SourceCount[];
  prefixes: SourceCount[];
  accounts: SourceCount[];
  addresses: SourceCount[];
}

/** What operators read and change of the defences against SMS pumping (`keystep abuse`). */
export function smsAbuseRepository(db: Db) {
  /** The `limit` keys with the most counted sends since `since`, with how many of their codes were entered. */
  async function top(column: 'country' | 'prefix' | 'ip', since: Date, limit: number): Promise<SourceCount[]> {
    const rows = await db.selectFrom('sms_messages')
      .select((eb) => [eb.ref(column).as('key'), eb.fn.countAll<string>().as('sent'), eb.fn.count<string>('entered_at').as('entered')])
      .where('at', '>', since).where('status', 'in', COUNTED).where(column, 'is not', null)
      .groupBy(column).orderBy('sent', 'desc').orderBy(column).limit(limit)
      .execute();
    return rows.map((r) => ({ key: String(r.key), sent: Number(r.sent), entered: Number(r.entered) }));
  }

  return {
    async status(now: Date, windowSeconds: number, limit = 5, globalWindowSeconds = 3600): Promise<AbuseStatus> {
      const since = new Date(now.getTime() - windowSeconds * 1000);
      const count = async (from: Date) => Number((await db.selectFrom('sms_messages').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('at', '>', from).where('status', 'in', COUNTED).executeTakeFirstOrThrow()).n);
      const pauses = await db.selectFrom('sms_pauses').selectAll().where('paused', '=', true).orderBy('changed_at', 'desc').execute();
      const accounts = await db.selectFrom('sms_messages as m').innerJoin('accounts as a', 'a.id', 'm.account_id')
        // By account: usernames are unique only within a domain.
        .select((eb) => ['a.domain', 'a.username', eb.fn.countAll<string>().as('sent'), eb.fn.count<string>('m.entered_at').as('entered')])
        .where('m.at', '>', since).where('m.status', 'in', COUNTED)
        .groupBy(['a.id', 'a.domain', 'a.username']).orderBy('sent', 'desc').orderBy('a.domain').orderBy('a.username').limit(limit)
        .execute();
      return {
        sentInGlobalWindow: await count(new Date(now.getTime() - globalWindowSeconds * 1000)),
        sentLastDay: await count(new Date(now.getTime() - 86_400_000)),
        pauses: pauses.map((p) => ({ scope: p.scope, range: p.range, reason: p.reason, changedAt: p.changed_at, sent: p.sent, entered: p.entered })),
        countries: await top('country', since, limit),
        prefixes: await top('prefix', since, limit),
        accounts: accounts.map((r) => ({ key: accountName(r), sent: Number(r.sent), entered: Number(r.entered) })),
        addresses: await top('ip', since, limit),
      };
    },

    /** Pauses a range by hand; true when it was not paused already. */
    async pause(scope: RangeScope, range: string, at: Date): Promise<boolean> {
      const result = await sql<{ was_paused: boolean | null }>`
        with old as (select paused from sms_pauses where scope = ${scope} and range = ${range})
        insert into sms_pauses (scope, range, paused, reason, changed_at, judged_from)
        values (${scope}, ${range}, true, 'manual', ${at}, ${at})
        on conflict (scope, range) do update set paused = true, reason = 'manual', sent = null, entered = null, changed_at = excluded.changed_at
        returning (select paused from old) as was_paused`.execute(db);
      return result.rows[0]?.was_paused !== true;
    },

    /**
     * Lifts a pause; true when there was one. The breaker then judges the range only by what is sent
     * from now on, so the sends that paused it cannot pause it again at once.
     */
    async resume(scope: RangeScope, range: string, at: Date): Promise<boolean> {
      // From its newest send at the earliest: an instance whose clock runs behind this one's cannot
      // judge those sends once more.
      const newest = sql<Date>`(select max(m.at) from sms_messages m where ${scope === 'prefix' ? sql`starts_with(m.prefix, ${range})` : sql`m.country = ${range}`})`;
      const result = await db.updateTable('sms_pauses')
        .set({ paused: false, reason: 'resumed', changed_at: at, judged_from: sql`greatest(${at}::timestamptz, ${newest})` })
        .where('scope', '=', scope).where('range', '=', range).where('paused', '=', true)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
