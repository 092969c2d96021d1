import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAdapterFactory } from '../../src/oidc/adapter.ts';
import { oidcPayloadRepository } from '../../src/repositories/oidc-payloads.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('the provider adapter on a real Postgres', () => {
  let t: TestDatabase;
  let adapter: ReturnType<ReturnType<typeof postgresAdapterFactory>>;
  let sessions: typeof adapter;
  const clients = { findMetadata: async (id: string) => (id === 'known' ? { client_id: 'known', redirect_uris: [] } : undefined) };

  beforeAll(async () => {
    t = await createTestDatabase();
    const factory = postgresAdapterFactory(oidcPayloadRepository(t.db), clients);
    adapter = factory('AuthorizationCode');
    sessions = factory('Session');
  });
  afterAll(() => t.drop());

  it('stores, finds and destroys payloads per model', async () => {
    await adapter.upsert('c1', { grantId: 'g1', accountId: 'a' }, 60);
    expect(await adapter.find('c1')).toMatchObject({ grantId: 'g1', accountId: 'a' });
    expect(await sessions.find('c1')).toBeUndefined();
    await adapter.destroy('c1');
    expect(await adapter.find('c1')).toBeUndefined();
  });

  it('finds sessions by uid, which survives id rotation (the uid index is not unique)', async () => {
    await sessions.upsert('s1', { uid: 'u1', accountId: 'a' }, 60);
    await sessions.upsert('s2', { uid: 'u1', accountId: 'a' }, 60);
    expect(await sessions.findByUid('u1')).toMatchObject({ uid: 'u1' });
    expect(await sessions.findByUid('nope')).toBeUndefined();
  });

  it('finds device codes by user code', async () => {
    const devices = postgresAdapterFactory(oidcPayloadRepository(t.db), clients)('DeviceCode');
    await devices.upsert('d1', { userCode: 'ABCD-EFGH' }, 60);
    expect(await devices.findByUserCode('ABCD-EFGH')).toMatchObject({ userCode: 'ABCD-EFGH' });
  });

  it('returns nothing once a payload has expired', async () => {
    await adapter.upsert('old', { grantId: 'g' }, 60);
    await t.db.updateTable('oidc_payloads').set({ expires_at: sql`now() - interval '1 second'` as never }).where('id', '=', 'old').execute();
    expect(await adapter.find('old')).toBeUndefined();
  });

  it('marks a consumed payload, and refuses the second consume', async () => {
    await adapter.upsert('c2', { grantId: 'g2' }, 60);
    await adapter.consume('c2');
    expect((await adapter.find('c2'))!.consumed).toBeTruthy();
    await expect(adapter.consume('c2')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('lets exactly one of many concurrent consumes win', async () => {
    await adapter.upsert('c3', { grantId: 'g3' }, 60);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => adapter.consume('c3')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('revokes by grant id within its model only', async () => {
    const tokens = postgresAdapterFactory(oidcPayloadRepository(t.db), clients)('AccessToken');
    await adapter.upsert('c4', { grantId: 'shared' }, 60);
    await tokens.upsert('t4', { grantId: 'shared' }, 60);
    await adapter.revokeByGrantId('shared');
    expect(await adapter.find('c4')).toBeUndefined();
    expect(await tokens.find('t4')).toBeDefined();
  });

  it('keeps payloads holding NUL characters (json, not jsonb)', async () => {
    await adapter.upsert('nul', { nonce: 'a\u0000b' }, 60);
    expect((await adapter.find('nul'))!.nonce).toBe('a\u0000b');
  });

  it('serves clients from the clients source and never writes them', async () => {
    const clientAdapter = postgresAdapterFactory(oidcPayloadRepository(t.db), clients)('Client');
    expect(await clientAdapter.find('known')).toMatchObject({ client_id: 'known' });
    expect(await clientAdapter.find('unknown')).toBeUndefined();
    await clientAdapter.upsert('known', { client_id: 'known' }, 0);
    expect(await t.db.selectFrom('oidc_payloads').where('model', '=', 'Client').selectAll().execute()).toHaveLength(0);
  });

  it('sweeps expired rows in batches', async () => {
    const repo = oidcPayloadRepository(t.db);
    for (let i = 0; i < 5; i++) await adapter.upsert(`sweep-${i}`, {}, 60);
    await t.db.updateTable('oidc_payloads').set({ expires_at: sql`now() - interval '1 minute'` as never }).where('id', 'like', 'sweep-%').execute();
    expect(await repo.sweepExpired(3)).toBe(3);
    expect(await repo.sweepExpired(3)).toBeGreaterThanOrEqual(2);
    const left = await t.db.selectFrom('oidc_payloads').select('id').where('id', 'like', 'sweep-%').execute();
    expect(left).toHaveLength(0);
  });
});
