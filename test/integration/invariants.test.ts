import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { tableViolations } from '../support/invariants.ts';

describe('the table invariants the fuzz tests check', () => {
  let t: TestDatabase;
  const HASH = '$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());

  async function account(username: string, options: { hash?: string; phone?: boolean } = {}) {
    const row = await t.db.insertInto('accounts').values({
      username, password_hash: options.hash ?? HASH, phone: options.phone ? '+447400000001' : null, phone_verified_at: options.phone ? new Date(Date.now() - 60_000) : null,
    }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  }
  const event = (e: { event: string; account: string; flow: string; result?: string; amr?: string[] }) => t.db.insertInto('auth_events')
    .values({ event: e.event, result: e.result ?? 'success', account_id: e.account, flow_uid: e.flow, detail: JSON.stringify(e.amr ? { amr: e.amr } : {}) }).execute();

  it('hold on tables a real login leaves, and name every broken row', async () => {
    const ok = await account('ok', { phone: true });
    await event({ event: 'login.password', account: ok, flow: 'f-ok' });
    await event({ event: 'login.sms_otp', account: ok, flow: 'f-ok' });
    await event({ event: 'login.completed', account: ok, flow: 'f-ok', amr: ['pwd', 'sms', 'mfa'] });
    await t.db.insertInto('login_flows').values({ uid: 'f-open', account_id: ok, passed: ['password'], expires_at: new Date(Date.now() + 60_000) }).execute();
    expect(await tableViolations(t.db)).toEqual([]);

    await account('no-hash', { hash: '' });
    const skipped = await account('skipped', { phone: true });
    await event({ event: 'login.password', account: skipped, flow: 'f-skip' });
    await event({ event: 'login.completed', account: skipped, flow: 'f-skip', amr: ['pwd'] });
    await event({ event: 'login.backup_code', account: ok, flow: 'f-lost' });
    await event({ event: 'login.password', account: ok, flow: 'f-lost' });
    await event({ event: 'login.completed', account: ok, flow: 'f-lost', amr: ['pwd', 'sms'] });
    await event({ event: 'login.completed', account: ok, flow: 'f-nopwd', amr: ['pwd', 'sms'] });
    await t.db.insertInto('sms_messages').values({ at: new Date(), account_id: ok, flow_uid: 'f-open', purpose: 'otp', destination: '+44 •••• ••00 01', status: 'reserved' }).execute();
    await t.db.insertInto('login_flows').values({ uid: 'f-bad', account_id: null, passed: ['password', 'magic-link'], expires_at: new Date(Date.now() + 60_000) }).execute();
    // Only a broken schema (or this test, past the foreign key) can leave a code without its login.
    await t.db.connection().execute(async (c) => {
      await sql`set session_replication_role = replica`.execute(c);
      await c.insertInto('otp_challenges').values({ flow_uid: 'f-gone', account_id: ok, destination: '+447400000001', code_hmac: 'x', expires_at: new Date(), last_sent_at: new Date() }).execute();
      await sql`set session_replication_role = origin`.execute(c);
    });

    const violations = await tableViolations(t.db);
    expect(violations).toEqual(expect.arrayContaining([
      expect.stringMatching(/^account .* \("no-hash"\) has no password hash$/),
      expect.stringMatching(/\(flow f-skip\) of an account with a verified number has amr \["pwd"\]: no second factor$/),
      expect.stringMatching(/\(flow f-lost\) passed login.backup_code but its amr \["pwd","sms"\] lacks mfa$/),
      expect.stringMatching(/\(flow f-nopwd\) has no successful password step$/),
      expect.stringMatching(/^sms_messages \d+ \(flow f-open\) is still reserved$/),
      'login_flows f-bad has passed ["magic-link"], not steps of the chain',
      'login_flows f-bad has passed steps but no account',
      'otp_challenges f-gone has no login flow',
    ]));
    expect(violations).toHaveLength(8);
  });
});
