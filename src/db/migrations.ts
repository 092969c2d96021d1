import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, NO_MIGRATIONS, type MigrationResult } from 'kysely/migration';
import type { Db } from './connection.ts';

export const migrationFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

function migrator(db: Db): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder }),
  });
}

export interface MigrationStatus {
  name: string;
  executedAt: Date | undefined;
}

export async function migrationStatus(db: Db): Promise<MigrationStatus[]> {
  const all = await migrator(db).getMigrations();
  return all.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}

export async function pendingMigrations(db: Db): Promise<string[]> {
  return (await migrationStatus(db)).filter((m) => !m.executedAt).map((m) => m.name);
}

function check(results: { error?: unknown; results?: MigrationResult[] }): MigrationResult[] {
  if (results.error) {
    const failed = results.results?.find((r) => r.status === 'Error');
    const message = results.error instanceof Error ? results.error.message : String(results.error);
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${message}`);
  }
  return results.results ?? [];
}

export async function migrateToLatest(db: Db): Promise<MigrationResult[]> {
  return check(await migrator(db).migrateToLatest());
}

export async function migrateDown(db: Db): Promise<MigrationResult[]> {
  return check(await migrator(db).migrateDown());
}

export async function migrateAllDown(db: Db): Promise<MigrationResult[]> {
  return check(await migrator(db).migrateTo(NO_MIGRATIONS));
}
