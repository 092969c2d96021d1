import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { migrateToLatest, pendingMigrations } from '../db/migrations.ts';
import { openDatabase, type OpenDatabase } from '../db/open.ts';
import { pino } from 'pino';
import { createLogger, type Logger } from '../shared/log.ts';

export class CliError extends Error {}

export interface CommandContext {
  config: Config;
  database: OpenDatabase;
  log: Logger;
}

/**
 * Opens the database for a command. The embedded database is brought up to date on the spot (it is
 * Keystep's own); a configured server must be migrated on purpose with `keystep migrate`.
 */
export async function withDatabase<T>(run: (ctx: CommandContext) => Promise<T>, options: { migrate?: boolean } = {}): Promise<T> {
  const config = loadConfig();
  // Commands print their results on stdout; logs go to stderr, and only warnings unless asked.
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  const database = await openDatabase(config, 2);
  try {
    if (options.migrate !== false) await ensureMigrated(database, config, log);
    return await run({ config, database, log });
  } finally {
    await database.close();
  }
}

export async function ensureMigrated(database: OpenDatabase, config: Config, log: Logger): Promise<void> {
  const pending = await pendingMigrations(database.db);
  if (pending.length === 0) return;
  if (database.embedded || config.autoMigrate) {
    await migrateToLatest(database.db);
    log.info({ applied: pending }, 'applied pending migrations');
    return;
  }
  throw new CliError(
    `the database has ${pending.length} pending migration(s): ${pending.join(', ')}.\n` +
    'Run `npx keystep migrate` first (or set autoMigrate / KEYSTEP_AUTO_MIGRATE=true).',
  );
}

/** A listing: JSON for scripts, a table for people. */
export function printRows(rows: object[], json: boolean | undefined, emptyText: string): void {
  if (json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.log(emptyText);
  else console.table(rows);
}
