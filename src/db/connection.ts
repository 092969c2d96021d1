import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/** Time limits on every database call, so a hung server fails requests fast instead of holding them. */
export interface DbTimeouts {
  /** Connecting, and waiting for a free connection of the pool. */
  connectTimeoutMs: number;
  /** One statement, on the server; the client gives up a second later on a server that does not answer. */
  queryTimeoutMs: number;
}

// The client's limit is a little longer than the server's, so a slow statement normally ends with
// Postgres's own clean cancel and the connection stays usable; the client's limit is for a server
// that answers nothing at all.
const CLIENT_GRACE_MS = 1000;

// timestamptz and json come back as Date and parsed objects (pg's defaults); bigint stays a string.
export function createDb(connectionString: string, maxConnections = 10, timeouts?: DbTimeouts): Db {
  const pool = new pg.Pool({
    connectionString,
    max: maxConnections,
    ...(timeouts ? {
      connectionTimeoutMillis: timeouts.connectTimeoutMs,
      statement_timeout: timeouts.queryTimeoutMs,
      query_timeout: timeouts.queryTimeoutMs + CLIENT_GRACE_MS,
      // A transaction left open (a request that died half-way) must not hold its locks for long.
      idle_in_transaction_session_timeout: timeouts.queryTimeoutMs,
    } : {}),
  });
  // An idle client's error (a restarted server) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}

const pools = new WeakMap<Db, pg.Pool>();

/** How the pool of a database made by `createDb` is used, for the metrics. */
export function poolUse(db: Db): (() => { total: number; idle: number; waiting: number }) | undefined {
  const pool = pools.get(db);
  return pool && (() => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }));
}
