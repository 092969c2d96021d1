import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateAllDown, migrateDown, migrateToLatest, migrationStatus, pendingMigrations } from '../../src/db/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

async function tables(t: TestDatabase): Promise<string[]> {
  const rows = await t.db.introspection.getTables();
  return rows.map((r) => r.name).sort();
}

describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase({ migrate: false }); });
  afterAll(() => t.drop());

  it('go up all, down all, and up all again', async () => {
    expect((await pendingMigrations(t.db)).length).toBeGreaterThan(0);
    await migrateToLatest(t.db);
    expect(await pendingMigrations(t.db)).toEqual([]);
    const up = await tables(t);
    expect(up).toEqual(expect.arrayContaining(['accounts', 'clients', 'oidc_payloads', 'login_flows', 'auth_events', 'server_secrets']));

    await migrateAllDown(t.db);
    expect(await tables(t)).toEqual([]);
    expect((await migrationStatus(t.db)).every((m) => !m.executedAt)).toBe(true);

    await migrateToLatest(t.db);
    expect(await tables(t)).toEqual(up);
  });

  it('steps down one migration at a time', async () => {
    const before = (await migrationStatus(t.db)).filter((m) => m.executedAt).length;
    const results = await migrateDown(t.db);
    expect(results).toHaveLength(1);
    expect((await migrationStatus(t.db)).filter((m) => m.executedAt).length).toBe(before - 1);
    await migrateToLatest(t.db);
  });

  it('have ISO-timestamp names and import nothing from src', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { migrationFolder } = await import('../../src/db/migrations.ts');
    for (const file of readdirSync(migrationFolder)) {
      expect(file).toMatch(/^\d{8}T\d{6}Z_[a-z0-9-]+\.ts$/);
      const source = readFileSync(`${migrationFolder}/${file}`, 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      expect(imports.every((i) => i === 'kysely')).toBe(true);
    }
  });
});
