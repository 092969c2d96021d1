import { Console } from 'node:console';
import type { Readable, Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { migrateToLatest, pendingMigrations } from '../db/migrations.ts';
import { openDatabase, type OpenDatabase } from '../db/open.ts';
import { createArgon2Hasher, type PasswordHasher } from '../login/passwords.ts';
import { createLogger, type Logger } from '../shared/log.ts';

/** The exit statuses a script can rely on (README, "The `keystep` command"). */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3 } as const;

/** A person's mistake: the message says what to do, and no stack trace follows it. */
export class CliError extends Error {
  readonly exitCode: number = EXIT.failure;
}

/** A command line the command cannot take: a missing or malformed option. */
export class UsageError extends CliError {
  override readonly exitCode: number = EXIT.usage;
}

/** The user, client or key named does not exist. */
export class NotFoundError extends CliError {
  override readonly exitCode: number = EXIT.notFound;
}

/**
 * Where one run of the command reads and writes: the process's own streams and environment when run
 * as `keystep`, a test's when called in-process.
 */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  /** Hashes new passwords and backup codes; Keystep's argon2id unless given. */
  hasher?: PasswordHasher;
  /**
   * `serve` calls it once it listens, with how to stop it. The binary stops on SIGINT and SIGTERM;
   * a caller in-process stops it when it likes.
   */
  serving(stop: (signal?: string) => Promise<void>): void;
}

/** A run of the command: its streams, and `out` printing to its standard output as `console` would. */
export interface Cli {
  io: CliIo;
  out: Console;
  hasher(): PasswordHasher;
}

export function cliOf(io: CliIo): Cli {
  let hasher = io.hasher;
  return {
    io,
    out: new Console({ stdout: io.stdout, stderr: io.stderr, colorMode: false }),
    hasher: () => (hasher ??= createArgon2Hasher()),
  };
}

/**
 * Where logs go: to the io's stream, except the process's own, which pino writes straight to the
 * file descriptor (Node's stream would buffer every line once more).
 */
export function logDestination(stream: Writable, fd: 1 | 2) {
  return stream === (fd === 1 ? process.stdout : process.stderr) ? pino.destination(fd) : stream;
}

export interface CommandContext {
  cli: Cli;
  config: Config;
  database: OpenDatabase;
  log: Logger;
}

/**
 * Opens the database for a command. The embedded database is brought up to date on the spot (it is
 * Keystep's own); a configured server must be migrated on purpose with `keystep migrate`.
 */
export async function withDatabase<T>(cli: Cli, run: (ctx: CommandContext) => Promise<T>, options: { migrate?: boolean } = {}): Promise<T> {
  const config = loadConfig(cli.io.env);
  // Commands print their results on stdout; logs go to stderr, and only warnings unless asked.
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, logDestination(cli.io.stderr, 2));
  const database = await openDatabase(config, 2);
  try {
    if (options.migrate !== false) await ensureMigrated(database, config, log);
    return await run({ cli, config, database, log });
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
export function printRows(cli: Cli, rows: object[], json: boolean | undefined, emptyText: string): void {
  if (json) cli.out.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) cli.out.log(emptyText);
  else cli.out.table(rows);
}
