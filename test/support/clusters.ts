import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';

/**
 * Copies the embedded Postgres of one Keystep data directory into another. `cp -a` keeps the owner
 * and modes: run as root, Postgres runs as the `postgres` user and refuses a data directory it does
 * not own, or one others may read.
 */
export function copyCluster(fromDataDir: string, toDataDir: string): void {
  mkdirSync(toDataDir, { recursive: true, mode: 0o755 });
  execFileSync('cp', ['-a', path.join(fromDataDir, 'postgres'), path.join(toDataDir, 'postgres')]);
}

/** A new temporary directory that others may enter (as the `postgres` user must, when run as root). */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Makes `dataDir` a Keystep data directory holding a stopped, initialised Postgres, copied from the
 * run's: what `openEmbeddedPostgres` finds on a second start, without the second of the first.
 */
export function withCluster(dataDir: string): string {
  copyCluster(inject('pristineDataDir'), dataDir);
  return dataDir;
}
