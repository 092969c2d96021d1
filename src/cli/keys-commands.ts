import type { Command } from 'commander';
import { describeKeys, keyTimes, rotateKeys } from '../oidc/keys.ts';
import { serverSecretRepository } from '../repositories/server-secrets.ts';
import { CliError, printRows, UsageError, withDatabase, type Cli, type CommandContext } from './context.ts';

interface RotateOptions {
  signing?: boolean;
  cookies?: boolean;
  now?: boolean;
  dropOld?: boolean;
}

function configuredNote(ctx: CommandContext): string[] {
  return [
    ...(ctx.config.keys.jwks ? ['signing keys come from the configuration (keys.jwks); the stored ones below are not used'] : []),
    ...(ctx.config.keys.cookieKeys ? ['cookie keys come from the configuration (keys.cookieKeys); the stored ones below are not used'] : []),
  ];
}

async function printKeys(ctx: CommandContext, json: boolean | undefined): Promise<void> {
  const rows = await describeKeys(serverSecretRepository(ctx.database.db), new Date(), keyTimes(ctx.config));
  if (!json) for (const note of configuredNote(ctx)) ctx.cli.io.stderr.write(`note: ${note}\n`);
  printRows(ctx.cli, rows.map((r) => ({ ...r, signs_from: r.signs_from ?? '-', retires_at: r.retires_at ?? '-' })), json, 'no keys');
}

export function registerKeysCommands(program: Command, cli: Cli): void {
  const keys = program.command('keys').description('the keys that sign tokens (published in the JWKS) and cookies');

  keys.command('list')
    .description('every key in use: signing (signs now), next (published, signs later) or retiring (verifies until it retires)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => withDatabase(cli, (ctx) => printKeys(ctx, opts.json)));

  keys.command('rotate')
    .description('make new signing keys (one per algorithm) and a new cookie key; the old ones verify until every token and cookie they signed has expired')
    .option('--signing', 'only the signing keys')
    .option('--cookies', 'only the cookie key')
    .option('--now', 'the new keys sign at once, without being published ahead (apps that cache the JWKS may refuse tokens until they fetch it again)')
    .option('--drop-old', 'remove every older key at once (a key got out: its tokens stop verifying and everyone signs in again); only with --now')
    .option('--json', 'print the keys afterwards as JSON')
    .action((opts: RotateOptions & { json?: boolean }) => withDatabase(cli, async (ctx) => {
      if (opts.dropOld && !opts.now) throw new UsageError('--drop-old needs --now: no key would be left to sign meanwhile');
      const both = !opts.signing && !opts.cookies;
      const signing = both || opts.signing === true;
      const cookies = both || opts.cookies === true;
      if (signing && ctx.config.keys.jwks) throw new CliError('the signing keys come from the configuration (keys.jwks): rotate them there, or pass --cookies');
      if (cookies && ctx.config.keys.cookieKeys) throw new CliError('the cookie keys come from the configuration (keys.cookieKeys): put a new one first there, or pass --signing');
      const times = keyTimes(ctx.config);
      const now = Math.floor(Date.now() / 1000);
      const signsFrom = opts.now ? { signing: now, cookie: now } : { signing: now + times.publishAhead, cookie: now + times.cookieAhead };
      await rotateKeys(serverSecretRepository(ctx.database.db), { signing, cookies, now, signsFrom, dropOld: opts.dropOld === true, times });
      const at = (seconds: number) => new Date(seconds * 1000).toISOString();
      if (signing) ctx.cli.io.stderr.write(`new signing keys are published and sign from ${at(signsFrom.signing)}\n`);
      if (cookies) ctx.cli.io.stderr.write(`a new cookie key verifies now and signs from ${at(signsFrom.cookie)}\n`);
      ctx.cli.io.stderr.write(`running servers read keys every ${ctx.config.keys.reloadSeconds}s (keys.reloadSeconds)\n`);
      await printKeys(ctx, opts.json);
    }));
}
