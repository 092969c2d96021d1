import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepared } from '../../src/db/prepared.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('prepared queries', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.db.insertInto('accounts').values([
      { username: 'ada', password_hash: 'h1' },
      { username: 'bob', password_hash: 'h2' },
    ]).execute();
  });
  afterAll(() => t.drop());

  it('compiles once and runs with each call\'s values, constants kept in place', async () => {
    const byName = prepared((p: { name: string }) => t.db.selectFrom('accounts').select(['username', 'password_hash'])
      .where('username', '=', p.name).where('disabled_at', 'is', null).limit(1));
    expect((await byName(t.db, { name: 'ada' })).rows).toEqual([{ username: 'ada', password_hash: 'h1' }]);
    expect((await byName(t.db, { name: 'bob' })).rows).toEqual([{ username: 'bob', password_hash: 'h2' }]);
    expect((await byName(t.db, { name: 'nobody' })).rows).toEqual([]);
  });

  it('binds a parameter used twice at both places, and counts changed rows', async () => {
    const touch = prepared((p: { name: string }) => t.db.updateTable('accounts')
      .set({ password_hash: p.name }).where('username', '=', p.name));
    expect((await touch(t.db, { name: 'bob' })).numAffectedRows).toBe(1n);
    expect((await t.db.selectFrom('accounts').select('password_hash').where('username', '=', 'bob').executeTakeFirstOrThrow()).password_hash).toBe('bob');
  });

  it('runs inside a transaction, on its connection', async () => {
    const insert = prepared((p: { name: string }) => t.db.insertInto('accounts').values({ username: p.name, password_hash: 'x' }));
    await expect(t.db.transaction().execute(async (trx) => {
      await insert(trx, { name: 'rolled-back' });
      expect(await trx.selectFrom('accounts').select('id').where('username', '=', 'rolled-back').executeTakeFirst()).toBeDefined();
      throw new Error('roll back');
    })).rejects.toThrow('roll back');
    expect(await t.db.selectFrom('accounts').select('id').where('username', '=', 'rolled-back').executeTakeFirst()).toBeUndefined();
  });

  it('refuses a build that would not bind its parameters as they are', async () => {
    const base = () => t.db.selectFrom('accounts').select('id');
    const transformed = prepared((p: { name: string }) => base().where('username', '=', p.name.toLowerCase()));
    await expect(transformed(t.db, { name: 'ADA' })).rejects.toThrow('changed a parameter');
    const computed = prepared((p: { seconds: number }) => base().where('failed_otp_count', '<', p.seconds * 1000));
    await expect(computed(t.db, { seconds: 1 })).rejects.toThrow('changed a parameter');
    const branched = prepared((p: { name: string; exact: boolean }) => (p.exact ? base().where('username', '=', p.name) : base().where('username', 'like', p.name)));
    await expect(branched(t.db, { name: 'ada', exact: true })).rejects.toThrow('read its parameter "exact" without binding it');
    const spread = prepared((p: { username: string; password_hash: string }) => t.db.insertInto('accounts').values({ ...p }));
    await expect(spread(t.db, { username: 'eve', password_hash: 'x' })).rejects.toThrow('by name');
    const inlined = prepared((p: { column: string }) => base().where(sql.ref(p.column), 'is not', null));
    await expect(inlined(t.db, { column: 'username' })).rejects.toThrow('SQL text');
    expect(await t.db.selectFrom('accounts').select('id').where('username', '=', 'eve').executeTakeFirst()).toBeUndefined();
  });
});
