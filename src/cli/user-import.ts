import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { accountRepository, UsernameTakenError } from '../repositories/accounts.ts';
import { authEventRepository } from '../repositories/auth-events.ts';
import { backupCodeRepository } from '../repositories/backup-codes.ts';
import { accountName } from '../shared/account-name.ts';
import { CliError, withDatabase, type Cli } from './context.ts';
import { parseUsers, type RowProblem } from './user-rows.ts';

const describe = (p: RowProblem) => (p.row ? `row ${p.row} (line ${p.line}): ${p.reason}` : `line ${p.line}: ${p.reason}`);

function refuse(problems: RowProblem[]): never {
  const shown = problems.slice(0, 50).map((p) => `  - ${describe(p)}`);
  if (problems.length > 50) shown.push(`  - and ${problems.length - 50} more`);
  throw new CliError(`nothing imported: ${problems.length} row(s) cannot be imported (fix them and run the import again):\n${shown.join('\n')}`);
}

/**
 * `keystep user import`: all or nothing per file. Every row is checked first; then the backup codes
 * are hashed; then every account is written in one transaction, so a failure anywhere (a username
 * taken meanwhile) leaves the database as it was and the file can simply be run again once fixed.
 */
export function registerUserImport(user: Command, cli: Cli): void {
  user.command('import <file>')
    .description('import users from a CSV or JSON-lines file (username, phone, password hash, backup codes); all or nothing')
    .option('--dry-run', 'check every row and say what would be imported; write nothing')
    .action((file: string, opts: { dryRun?: boolean }) => withDatabase(cli, async (ctx) => {
      let input: string;
      try {
        input = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
      } catch (err) {
        throw new CliError(err instanceof TypeError ? `${file} is not UTF-8 text` : `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const parsed = parseUsers(file, input.replaceAll('\u0000', ''), ctx.config.sms);
      const accounts = accountRepository(ctx.database.db);
      const taken = await accounts.takenNames(parsed.users);
      const problems = [...parsed.problems];
      for (const u of parsed.users) if (taken.has(`${u.domain}/${u.username.toLowerCase()}`)) problems.push({ row: u.row, line: u.line, reason: `the username ${accountName(u)} is taken` });
      if (problems.length) refuse(problems.sort((a, b) => a.row - b.row));
      if (!parsed.users.length) throw new CliError(`${file} holds no users`);
      if (parsed.ignored.length) cli.out.log(`ignored fields: ${parsed.ignored.join(', ')}`);

      const formats = new Map<string, number>();
      for (const u of parsed.users) formats.set(u.format, (formats.get(u.format) ?? 0) + 1);
      const summary = `${parsed.users.length} user(s), ${parsed.users.filter((u) => u.phone).length} with a number, ${parsed.users.filter((u) => u.backupCodes.length).length} with backup codes, ${new Set(parsed.users.map((u) => u.domain)).size} domain(s) (${[...new Set(parsed.users.map((u) => u.domain))].join(', ')}); password hashes: ${[...formats].map(([f, n]) => `${f} ${n}`).join(', ')}`;
      if (opts.dryRun) return void cli.out.log(`would import ${summary}`);

      // Hashed before the transaction opens, which then only writes.
      const hasher = ctx.cli.hasher();
      const hashed = await Promise.all(parsed.users.map(async (u) => Promise.all(u.backupCodes.map((c) => hasher.hash(c)))));
      const now = new Date();
      await ctx.database.db.transaction().execute(async (trx) => {
        const store = accountRepository(trx);
        const codes = backupCodeRepository(trx);
        const audit = authEventRepository(trx);
        for (const [i, u] of parsed.users.entries()) {
          let id: string;
          try {
            id = (await store.create({ domain: u.domain, username: u.username, passwordHash: u.passwordHash, phone: u.phone })).id;
          } catch (err) {
            if (err instanceof UsernameTakenError) throw new CliError(`nothing imported: row ${u.row}: the username ${accountName(u)} was taken while the import ran`);
            throw err;
          }
          // The number the old system sent its codes to counts as verified, as an operator's does.
          if (u.phone) await store.setPhone(id, u.phone, now);
          await codes.insertAll(id, hashed[i]!);
          await audit.record({ event: 'user.imported', result: 'info', accountId: id, reason: 'cli', detail: { hash: u.format, backupCodes: u.backupCodes.length } });
        }
      });
      cli.out.log(`imported ${summary}`);
      if (parsed.users.some((u) => u.format !== 'argon2id')) cli.out.log('Hashes of other formats become Keystep\'s argon2id at each user\'s next successful sign-in.');
    }));
}
