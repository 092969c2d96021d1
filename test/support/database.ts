import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, type Db } from '../../src/db/connection.ts';

export interface TestDatabase {
  db: Db;
  url: string;
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A new database on the test server: a copy of the run's migrated template (with its signing and
 * cookie keys, unless `storedKeys: false`), or with `migrate: false` an empty one.
 */
export async function createTestDatabase(options: { migrate?: boolean; storedKeys?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('postgresUrl');
  const name = `keystep_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(options.migrate === false ? `create database ${name}` : `create database ${name} template ${inject('templateDatabase')}`);
  await admin.end();
  const url = withDatabase(serverUrl, name);
  const db = createDb(url, 10);
  if (options.storedKeys === false) await db.deleteFrom('server_secrets').execute();
  return {
    db,
    url,
    async drop() {
      await db.destroy();
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
