import { once } from 'node:events';
import type { Command } from 'commander';
import { accountRepository } from '../repositories/accounts.ts';
import { authEventRepository } from '../repositories/auth-events.ts';
import { NotFoundError, UsageError, withDatabase, type Cli } from './context.ts';
import { timeOption } from './durations.ts';

interface ExportOptions {
  since?: string;
  until?: string;
  account?: string;
}

export function registerAuditCommands(program: Command, cli: Cli): void {
  const audit = program.command('audit').description('the audit trail (auth_events)');

  audit.command('export')
    .description('write audit events as JSON lines, oldest first, on standard output')
    .option('--since <time>', 'from this time on (ISO 8601 date or time, or a time ago such as 7d)')
    .option('--until <time>', 'before this time (same forms)')
    .option('--account <username>', 'only the events of this user')
    .action((opts: ExportOptions) => withDatabase(cli, async (ctx) => {
      const now = new Date();
      const since = opts.since === undefined ? undefined : timeOption('--since', opts.since, now);
      const until = opts.until === undefined ? undefined : timeOption('--until', opts.until, now);
      if (since && until && since >= until) throw new UsageError('--since must be before --until');
      let accountId: string | undefined;
      if (opts.account !== undefined) {
        const account = await accountRepository(ctx.database.db).findByUsername(opts.account);
        if (!account) throw new NotFoundError(`no user named ${opts.account}`);
        accountId = account.id;
      }
      const out = cli.io.stdout;
      // A reader that has what it wanted and left (`| head`) ends the export quietly; another
      // failure to write is the command's failure. Kept on: a write fails after it returned.
      let failed: NodeJS.ErrnoException | undefined;
      out.on('error', (err: NodeJS.ErrnoException) => { failed ??= err; });
      const gone = () => failed?.code === 'EPIPE';
      for await (const event of authEventRepository(ctx.database.db).export({ since, until, accountId })) {
        if (failed) break;
        // Waits for a slow reader (a pipe to a file or a shipper): memory holds a page, not the export.
        if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain').catch(() => undefined);
      }
      if (failed && !gone()) throw failed;
    }));
}
