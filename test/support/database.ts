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

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Test databases of this run are named after its template, so the run's teardown finds any left over. */
export const testDatabasePrefix = (template: string) => `${template.replace('keystep_template_', 'keystep_test_')}_`;

async function newDatabase(serverUrl: string, template: string | undefined): Promise<string> {
  const name = `${testDatabasePrefix(inject('templateDatabase'))}${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, template ? `create database ${name} template ${template}` : `create database ${name}`);
  return name;
}

// The copy the next test file will take, made while this one runs: Postgres copies on another core
// while the tests of this worker use theirs (the files of a worker share this module).
let nextCopy: Promise<string> | undefined;

async function copyOfTemplate(serverUrl: string): Promise<string> {
  const template = inject('templateDatabase');
  const name = (await nextCopy?.catch(() => undefined)) ?? (await newDatabase(serverUrl, template));
  nextCopy = newDatabase(serverUrl, template);
  // Taken (or given up) by the next call; a failure here must not surface as an unhandled one.
  nextCopy.catch(() => {});
  return name;
}

/**
 * A new database on the test server: a copy of the run's migrated template (with its signing and
 * cookie keys, unless `storedKeys: false`), or with `migrate: false` an empty one.
 */
export async function createTestDatabase(options: { migrate?: boolean; storedKeys?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('postgresUrl');
  const name = options.migrate === false ? await newDatabase(serverUrl, undefined) : await copyOfTemplate(serverUrl);
  const url = withDatabase(serverUrl, name);
  const db = createDb(url, 10);
  if (options.storedKeys === false) await db.deleteFrom('server_secrets').execute();
  return {
    db,
    url,
    async drop() {
      await db.destroy();
      await admin(serverUrl, `drop database if exists ${name} with (force)`);
    },
  };
}
