import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepUntilCaughtUp } from '../../src/db/sweep.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// Well past the old bound of 1,000 rows per table a run.
const EXPIRED = 12_000;

describe('the sweep of expired rows', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(() => t.close());

  async function count(table: 'oidc_payloads' | 'login_flows' | 'password_failures', prefix: string) {
    const key = table === 'password_failures' ? 'username_key' : table === 'login_flows' ? 'uid' : 'id';
    const row = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table)} where ${sql.ref(key)} like ${`${prefix}%`}`.execute(t.database.db);
    return Number(row.rows[0]!.n);
  }

  it('clears many thousands of expired rows of every table in one run, and nothing live', async () => {
    const db = t.database.db;
    await sql`insert into oidc_payloads (model, id, payload, expires_at)
      select 'Interaction', 'gone-' || i, '{}', now() - interval '1 minute' from generate_series(1, ${EXPIRED}) i`.execute(db);
    await sql`insert into login_flows (uid, expires_at)
      select 'gone-' || i, now() - interval '1 minute' from generate_series(1, ${EXPIRED}) i`.execute(db);
    await sql`insert into password_failures (username_key, failures, last_failure_at)
      select 'gone-' || i, 1, now() - interval '2 days' from generate_series(1, ${EXPIRED}) i`.execute(db);
    await sql`insert into oidc_payloads (model, id, payload, expires_at) values ('Interaction', 'live-1', '{}', now() + interval '1 hour')`.execute(db);
    await sql`insert into login_flows (uid, expires_at) values ('live-1', now() + interval '1 hour')`.execute(db);
    await sql`insert into password_failures (username_key, failures, last_failure_at) values ('live-1', 1, now())`.execute(db);

    await t.app.sweep();

    for (const table of ['oidc_payloads', 'login_flows', 'password_failures'] as const) {
      expect({ table, gone: await count(table, 'gone-'), live: await count(table, 'live-') }).toEqual({ table, gone: 0, live: 1 });
    }
    expect(t.logLines.join('')).not.toMatch(/sweep of expired rows failed|left for the next sweep/);
  });

  it('settles SMS reservations that no send finished (the process ended while sending) as uncertain, and only those', async () => {
    const db = t.database.db;
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);
    await db.insertInto('sms_messages').values([
      { at: at(11), purpose: 'otp', destination: '+44 •••• ••00 01', status: 'reserved' },
      { at: at(1), purpose: 'otp', destination: '+44 •••• ••00 02', status: 'reserved' },
      { at: at(11), purpose: 'otp', destination: '+44 •••• ••00 03', status: 'sent' },
    ]).execute();
    await t.app.sweep();
    const rows = await db.selectFrom('sms_messages').select(['destination', 'status']).orderBy('destination').execute();
    expect(rows.map((r) => r.status)).toEqual(['uncertain', 'reserved', 'sent']);
  });

  it('stops a run at its bound and says the table has not caught up', async () => {
    let left = 10_500;
    const batch = async (limit: number) => { const n = Math.min(limit, left); left -= n; return n; };
    expect(await sweepUntilCaughtUp(batch, { batchSize: 1000, maxBatches: 5 })).toEqual({ removed: 5000, caughtUp: false });
    expect(await sweepUntilCaughtUp(batch, { batchSize: 1000, maxBatches: 100 })).toEqual({ removed: 5500, caughtUp: true });
  });
});
