import type { Command } from 'commander';
import { migrateDown, migrateToLatest, migrationStatus } from '../db/migrations.ts';
import { withDatabase, type Cli } from './context.ts';

export function registerMigrateCommands(program: Command, cli: Cli): void {
  const migrate = program.command('migrate').description('apply pending database migrations (see also: status, down)')
    .action(() => withDatabase(cli, async ({ database }) => {
      const results = await migrateToLatest(database.db);
      if (results.length === 0) cli.out.log('the database is up to date');
      for (const r of results) cli.out.log(`applied ${r.migrationName}`);
    }, { migrate: false }));

  migrate.command('status')
    .description('list migrations and whether each is applied')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => withDatabase(cli, async ({ database }) => {
      const status = await migrationStatus(database.db);
      if (opts.json) return void cli.out.log(JSON.stringify(status.map((m) => ({ name: m.name, applied: m.executedAt?.toISOString() ?? null })), null, 2));
      for (const m of status) {
        cli.out.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  (${m.executedAt.toISOString()})` : ''}`);
      }
    }, { migrate: false }));

  migrate.command('down')
    .description('undo the most recent migration')
    .action(() => withDatabase(cli, async ({ database }) => {
      const results = await migrateDown(database.db);
      if (results.length === 0) cli.out.log('no migration to undo');
      for (const r of results) cli.out.log(`reverted ${r.migrationName}`);
    }, { migrate: false }));
}
