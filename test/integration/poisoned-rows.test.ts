import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import { migrationFolder } from '../../src/db/migrations.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accountRevocation } from '../../src/repositories/account-revocation.ts';
import { loginFlowRepository } from '../../src/repositories/login-flows.ts';
import { oidcPayloadRepository } from '../../src/repositories/oidc-payloads.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Strings a request parameter can carry into a provider payload verbatim (state, nonce, claims...):
// Postgres keeps them in `json` text, but cannot turn them into text with `->>` (on any key).
const POISONS = { nul: 'a\u0000b', high: 'x\ud800y', low: '\udc00', pair: '\ud83d\ude00', escapedText: '\\u0000', quote: '"accountId":"' };
const poisoned = (extra: Record<string, unknown> = {}) => ({
  ...extra, state: POISONS.nul, nonce: POISONS.high, claims: { userinfo: { [POISONS.low]: { value: POISONS.nul } } }, note: Object.values(POISONS),
});

describe('queries with poisoned rows present', () => {
  let t: TestDatabase;
  let payloads: ReturnType<typeof oidcPayloadRepository>;
  let victim: string;
  let other: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    payloads = oidcPayloadRepository(t.db);
    const accounts = accountRepository(t.db);
    victim = (await accounts.create({ username: 'victim', passwordHash: 'x' })).id;
    other = (await accounts.create({ username: 'other', passwordHash: 'x' })).id;
  });
  afterAll(() => t.drop());

  beforeEach(async () => {
    await t.db.deleteFrom('oidc_payloads').execute();
    // An anonymous request's interaction and logout state, and an offline login's tokens with a poisoned nonce.
    await payloads.upsert('Interaction', 'anon', poisoned({ params: { state: POISONS.nul } }), 600);
    await payloads.upsert('Session', 'anon-session', poisoned({ uid: 'anon-uid', state: { secret: POISONS.nul } }), 600);
    await payloads.upsert('RefreshToken', 'other-rt', poisoned({ accountId: other, grantId: 'other-grant' }), 600);
    await payloads.upsert('Grant', 'other-grant', { accountId: other }, 600);
    // The victim's own rows, one of them poisoned too.
    await payloads.upsert('Session', 'victim-s1', { uid: 'victim-uid', accountId: victim }, 600);
    await payloads.upsert('Session', 'victim-s2', { uid: 'victim-other-uid', accountId: victim }, 600);
    await payloads.upsert('Grant', 'victim-grant', { accountId: victim }, 600);
    await payloads.upsert('RefreshToken', 'victim-rt', poisoned({ accountId: victim, grantId: 'victim-grant' }), 600);
    await payloads.upsert('AccessToken', 'victim-at', { accountId: victim, grantId: 'victim-grant' }, 600);
    await payloads.upsert('Interaction', 'victim-finishing', poisoned({ result: { login: { accountId: victim } } }), 600);
    await payloads.upsert('Interaction', 'victim-signed-in', poisoned({ session: { accountId: victim, uid: 'victim-uid' } }), 600);
    await payloads.upsert('DeviceCode', 'device', poisoned({ userCode: 'WXYZ-1234' }), 600);
  });

  const ids = async () => (await t.db.selectFrom('oidc_payloads').select('id').orderBy('id').execute()).map((r) => r.id);

  it('stores and finds poisoned payloads unchanged, by id, uid and user code', async () => {
    expect((await payloads.find('RefreshToken', 'victim-rt'))!.payload).toEqual(JSON.parse(JSON.stringify(poisoned({ accountId: victim, grantId: 'victim-grant' }))));
    expect((await payloads.find('Interaction', 'anon'))!.payload.state).toBe(POISONS.nul);
    expect((await payloads.find('Grant', 'victim-grant'))!.payload).toEqual({ accountId: victim });
    expect((await payloads.findByUid('Session', 'anon-uid'))!.payload.note).toEqual(Object.values(POISONS));
    expect((await payloads.findByUid('Session', 'victim-uid'))!.payload.accountId).toBe(victim);
    expect((await payloads.findByUserCode('DeviceCode', 'WXYZ-1234'))!.payload.nonce).toBe(POISONS.high);
    // An upsert over a poisoned row (the provider saves an interaction several times) replaces it.
    await payloads.upsert('Interaction', 'anon', poisoned({ result: { login: { accountId: other } } }), 600);
    expect((await t.db.selectFrom('oidc_payloads').select('account_id').where('id', '=', 'anon').executeTakeFirst())!.account_id).toBe(other);
  });

  it('consumes and destroys rows, poisoned or not', async () => {
    expect(await payloads.consume('RefreshToken', 'victim-rt')).toBe(true);
    expect(await payloads.consume('RefreshToken', 'victim-rt')).toBe(false);
    expect((await payloads.find('RefreshToken', 'victim-rt'))!.consumedAt).toBeInstanceOf(Date);
    expect(await payloads.consume('AccessToken', 'victim-at')).toBe(true);
    await payloads.destroy('Interaction', 'anon');
    await payloads.destroy('Grant', 'other-grant');
    expect(await payloads.find('Interaction', 'anon')).toBeUndefined();
    expect(await payloads.find('Grant', 'other-grant')).toBeUndefined();
  });

  it('revokes by grant, poisoned rows included, and nothing of other grants', async () => {
    await payloads.revokeByGrantId('AccessToken', 'victim-grant');
    expect(await payloads.find('AccessToken', 'victim-at')).toBeUndefined();
    expect(await payloads.find('RefreshToken', 'victim-rt')).toBeDefined();
    await payloads.revokeGrant('victim-grant');
    expect(await ids()).not.toEqual(expect.arrayContaining(['victim-grant']));
    expect(await ids()).not.toContain('victim-rt');
    expect(await ids()).toEqual(expect.arrayContaining(['other-rt', 'other-grant', 'anon']));
  });

  it('revokes one account: all of its rows, poisoned ones too, and no one else\'s', async () => {
    const gone = await payloads.revokeAccount(victim);
    expect(gone.sort()).toEqual(['AccessToken', 'Grant', 'Interaction', 'Interaction', 'RefreshToken', 'Session', 'Session']);
    expect(await ids()).toEqual(['anon', 'anon-session', 'device', 'other-grant', 'other-rt']);
  });

  it('revokes all but one session of an account (a session keeps its uid across id rotation)', async () => {
    await payloads.upsert('Session', 'victim-s1-rotated', { uid: 'victim-uid', accountId: victim }, 600);
    const gone = await payloads.revokeAccount(victim, 'victim-uid');
    expect(gone.filter((m) => m === 'Session')).toEqual(['Session']);
    expect(await ids()).toEqual(expect.arrayContaining(['victim-s1', 'victim-s1-rotated']));
    expect(await ids()).not.toEqual(expect.arrayContaining(['victim-s2']));
    expect(await ids()).not.toContain('victim-rt');
    expect(await ids()).not.toContain('victim-signed-in');
  });

  it('sweeps expired poisoned rows', async () => {
    await t.db.updateTable('oidc_payloads').set({ expires_at: sql`now() - interval '1 minute'` as never }).where('id', 'in', ['anon', 'victim-rt', 'other-rt']).execute();
    expect(await payloads.sweepExpired(2)).toBe(2);
    expect(await payloads.sweepExpired(2)).toBe(1);
    expect(await payloads.find('Session', 'victim-s1')).toBeDefined();
  });

  it('ends an account\'s logins in progress and their codes with its tokens, and no one else\'s', async () => {
    const flows = loginFlowRepository(t.db);
    const expires = new Date(Date.now() + 600_000);
    for (const [uid, accountId] of [['victim-flow', victim], ['other-flow', other], ['anonymous-flow', null]] as const) {
      const flow = await flows.findOrCreate(uid, expires);
      expect(await flows.save({ ...flow, accountId, passed: accountId ? ['password'] : [] })).toBe(true);
    }
    await t.db.insertInto('otp_challenges').values({ flow_uid: 'victim-flow', account_id: victim, destination: '+447400123456', code_hmac: 'h', expires_at: expires, last_sent_at: new Date() }).execute();
    const revoked = await accountRevocation(t.db).revoke(victim);
    expect(revoked).toEqual({ sessions: 2, grants: 1, tokens: 2, logins: 1 });
    expect(await flows.find('victim-flow')).toBeUndefined();
    expect(await t.db.selectFrom('otp_challenges').selectAll().execute()).toEqual([]);
    expect(await flows.find('other-flow')).toMatchObject({ accountId: other });
    expect(await flows.find('anonymous-flow')).toMatchObject({ accountId: null });
    expect(await ids()).toEqual(['anon', 'anon-session', 'device', 'other-grant', 'other-rt']);
  });
});

describe('login flows with unusual text present', () => {
  let t: TestDatabase;
  const expires = () => new Date(Date.now() + 600_000);
  // What a login may keep from a request (the typed username, say): everything jsonb can hold.
  const odd = { slots: { password: { username: '\ufffd\ud83d\ude00"\\u0000\'; drop table login_flows; --' }, list: [POISONS.pair, POISONS.escapedText, POISONS.quote] } };

  beforeAll(async () => { t = await createTestDatabase(); });
  afterAll(() => t.drop());

  it('opens, saves, finds and removes flows beside rows holding odd data', async () => {
    const flows = loginFlowRepository(t.db);
    const strange = await flows.findOrCreate('strange', expires());
    expect(await flows.save({ ...strange, data: odd })).toBe(true);
    const plain = await flows.findOrCreate('plain', expires());
    expect(await flows.save({ ...plain, data: { slots: { n: 1 } } })).toBe(true);
    expect((await flows.find('strange'))!.data).toEqual(odd);
    const saved = (await flows.find('plain'))!;
    expect(await flows.saveData({ ...saved, data: odd })).toBe(true);
    expect((await flows.findOrCreate('plain', expires())).data).toEqual(odd);
    // The hand-over, beside the odd row.
    const finished = (await flows.find('plain'))!;
    expect((await flows.claimHandover({ ...finished, passed: ['password'] })).claimed).toBe(true);
    expect((await flows.find('plain'))!.handingOver).toBe(true);
    await flows.releaseHandover('plain');
    expect((await flows.find('strange'))!.handingOver).toBe(false);
    await flows.remove('strange');
    expect(await flows.find('strange')).toBeUndefined();
    await t.db.updateTable('login_flows').set({ expires_at: new Date(Date.now() - 1000) }).execute();
    expect(await flows.sweepExpired(10)).toBe(1);
  });

  it('keeps data holding a NUL or a lone surrogate exactly, or refuses it without touching the row', async () => {
    const flows = loginFlowRepository(t.db);
    for (const [i, bad] of [POISONS.nul, POISONS.high, POISONS.low].entries()) {
      for (const write of ['save', 'saveData'] as const) {
        const flow = await flows.findOrCreate(`poisoned-${write}-${i}`, expires());
        const saved = await flows[write]({ ...flow, data: { slots: { password: { username: bad } } } }).catch(() => undefined);
        const after = await flows.find(flow.uid);
        if (saved) expect(after!.data).toEqual({ slots: { password: { username: bad } } });
        else expect(after).toEqual(flow);
      }
    }
  });
});

describe('the migration that gives provider rows their account', () => {
  const MIGRATION = '20261201T100000Z_oidc-payloads-account-id';
  let t: TestDatabase;
  let migrator: Migrator;
  const victim = '3f2b1c4d-0000-4000-8000-00000000000a';
  const other = '3f2b1c4d-0000-4000-8000-00000000000b';

  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
    migrator = new Migrator({ db: t.db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) });
  });
  afterAll(() => t.drop());

  async function migrateTo(name: string) {
    const { error } = await migrator.migrateTo(name);
    if (error) throw error;
  }

  it('backfills every readable row, poisoned ones included, without failing on any, and goes down and up again', async () => {
    const names = (await migrator.getMigrations()).map((m) => m.name);
    await migrateTo(names[names.indexOf(MIGRATION) - 1]!);
    // Rows as the provider left them before the column existed.
    const rows: [string, string, unknown][] = [
      ['Session', 'clean', { uid: 'u', accountId: victim }],
      ['RefreshToken', 'nul-nonce', { accountId: victim, nonce: POISONS.nul, grantId: 'g' }],
      ['Interaction', 'finishing', { params: { state: POISONS.high }, result: { login: { accountId: victim } } }],
      ['Interaction', 'signed-in', { params: { state: POISONS.low }, session: { accountId: victim, uid: 'u' } }],
      // A string can hold the text of a key and an escaped backslash before "u0000": neither misleads.
      ['AccessToken', 'lookalike', { state: `\\u0000","accountId":"${other}`, extra: POISONS.escapedText, accountId: victim, nonce: POISONS.nul }],
      ['Interaction', 'anonymous', { params: { state: POISONS.nul, nonce: POISONS.high } }],
      ['Grant', 'no-account', { clientId: 'c' }],
    ];
    for (const [model, id, payload] of rows) {
      await sql`insert into oidc_payloads (model, id, payload) values (${model}, ${id}, ${JSON.stringify(payload)}::json)`.execute(t.db);
    }
    // A payload Postgres keeps as json text but cannot read with `->>` (the reason for the column).
    await expect(sql`select payload->>'accountId' from oidc_payloads`.execute(t.db)).rejects.toThrow(/Unicode|json/);

    await migrateTo(MIGRATION);
    const backfilled = await t.db.selectFrom('oidc_payloads').select(['id', 'account_id']).orderBy('id').execute();
    expect(Object.fromEntries(backfilled.map((r) => [r.id, r.account_id]))).toEqual({
      'clean': victim, 'nul-nonce': victim, 'finishing': victim, 'signed-in': victim, 'lookalike': victim, 'anonymous': null, 'no-account': null,
    });
    // The payloads themselves are untouched (read through the repository, on the latest schema).
    await migrateTo(names.at(-1)!);
    expect((await oidcPayloadRepository(t.db).find('AccessToken', 'lookalike'))!.payload).toEqual(rows[4]![2]);
    expect(await oidcPayloadRepository(t.db).revokeAccount(victim)).toHaveLength(5);

    await migrateTo(names[names.indexOf(MIGRATION) - 1]!);
    expect((await t.db.introspection.getTables()).find((table) => table.name === 'oidc_payloads')!.columns.map((c) => c.name)).not.toContain('account_id');
    await migrateTo(MIGRATION);
  });
});
