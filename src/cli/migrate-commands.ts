import type { Command } from 'commander';
import { migrateDown, migrateToLatest, migrationStatus } from '../db/migrations.ts';
import { withDatabase } from './context.ts';

export function registerMigrateCommands(program: Command): void {
  const migrate = program.command('migrate').description('apply pending database migrations (see also: status, down)')
    .action(() => withDatabase(async ({ database }) => {
      const results = await migrateToLatest(database.db);
      if (results.length === 0) console.log('the database is up to date');
      for (const r of results) console.log(`applied ${r.migrationName}`);
    }, { migrate: false }));

  migrate.command('status')
    .description('list migrations and whether each is applied')
    .action(() => withDatabase(async ({ database }) => {
      for (const m of await migrationStatus(database.db)) {
        console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  (${m.executedAt.toISOString()})` : ''}`);
      }
    }, { migrate: false }));

  migrate.command('down')
    .description('undo the most recent migration')
    .action(() => withDatabase(async ({ database }) => {
      const results = await migrateDown(database.db);
      if (results.length === 0) console.log('no migration to undo');
      for (const r of results) console.log(`reverted ${r.migrationName}`);
    }, { migrate: false }));
}
