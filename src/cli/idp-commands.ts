import type { Command } from 'commander';
import { callbackPath } from '../federation/upstream-client.ts';
import { upstreamIssuerProblem } from '../shared/loopback.ts';
import { USECASES, type Usecase } from '../login/factors/federated/ports.ts';
import { accountRepository } from '../repositories/accounts.ts';
import { authEventRepository } from '../repositories/auth-events.ts';
import { federatedLinkRepository } from '../repositories/federated-links.ts';
import { UpstreamProviderExistsError, upstreamProviderRepository, upstreamSecretsKey } from '../repositories/upstream-providers.ts';
import { accountName, parseDomain } from '../shared/account-name.ts';
import { CliError, NotFoundError, UsageError, printRows, withDatabase, type Cli, type CommandContext } from './context.ts';
import { readSecret } from './password-input.ts';

/** A provider's name: its part of the callback URL and of a client's `--first-step idp:<name>`. */
export const IDP_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const CLAIM = /^[A-Za-z0-9_.:-]{1,64}$/;

interface AddOptions {
  issuer?: string;
  clientId?: string;
  clientSecretStdin?: boolean;
  scope: string;
  displayName?: string;
  usecase: string;
  userAttribute?: string;
  domains: string;
  mobileClaim?: string;
  jit?: boolean;
}

/** The stored providers, their secrets sealed under the server secret the server reads too (the same `keys.otpHmacKey`, or the database's). */
export async function storedProviders(ctx: CommandContext) {
  return upstreamProviderRepository(ctx.database.db, await upstreamSecretsKey(ctx.database.db, ctx.config.keys.otpHmacKey));
}

/** The links of upstream identities, each provider's by the issuer it has now (the config file's winning on a name, as for the server). */
async function storedLinks(ctx: CommandContext) {
  const providers = await storedProviders(ctx);
  return federatedLinkRepository(ctx.database.db, async (name) => (Object.hasOwn(ctx.config.federation.providers, name) ? ctx.config.federation.providers[name]!.issuer : (await providers.find(name))?.issuer));
}

const isUsecase = (v: string): v is Usecase => (USECASES as readonly string[]).includes(v);

function checkAdd(name: string, opts: AddOptions): { domains: string[] } {
  if (!IDP_NAME.test(name)) throw new CliError('a provider name is 1 to 64 of a-z 0-9 -, starting with a letter or digit');
  // A missing flag is a wrong command line (status 2), as everywhere else.
  if (!opts.issuer) throw new UsageError('give --issuer');
  if (!opts.clientId) throw new UsageError('give --client-id');
  const problems: string[] = [];
  const issuerProblem = upstreamIssuerProblem(opts.issuer);
  if (issuerProblem) problems.push(`--issuer: ${issuerProblem}`);
  if (opts.clientId.length > 256) problems.push('--client-id is at most 256 characters');
  if (!opts.scope.split(' ').includes('openid')) problems.push('--scope must include openid');
  if (!isUsecase(opts.usecase)) problems.push(`--usecase is ${USECASES.join(', ')}`);
  if (opts.usecase === 'userAttribute' && !opts.userAttribute) problems.push('--usecase userAttribute needs --user-attribute <claim>');
  for (const [flag, claim] of [['--user-attribute', opts.userAttribute], ['--mobile-claim', opts.mobileClaim]] as const) {
    if (claim !== undefined && !CLAIM.test(claim)) problems.push(`${flag} is a claim name`);
  }
  if (opts.displayName !== undefined && (!opts.displayName.trim() || opts.displayName.length > 64)) problems.push('--display-name is 1 to 64 characters');
  const domains = opts.domains.split(',').map((d) => d.trim()).filter(Boolean);
  const bad = domains.filter((d) => parseDomain(d) !== d);
  if (!domains.length || bad.length) problems.push(`--domains is a comma-separated list of domains (a-z 0-9 _ -)${bad.length ? `: not ${bad.join(', ')}` : ''}`);
  if (problems.length) throw new CliError(problems.join('\n'));
  return { domains };
}

export function registerIdpCommands(program: Command, cli: Cli): void {
  const idp = program.command('idp').description('manage upstream OpenID Connect providers users can sign in through');

  idp.command('add <name>')
    .description('add an upstream provider; register the callback URL it prints with that provider')
    .option('--issuer <url>', 'the provider\'s issuer (its discovery document is read from there)')
    .option('--client-id <id>', 'Keystep\'s client id at the provider')
    .option('--client-secret-stdin', 'read Keystep\'s client secret at the provider from stdin (never from the command line)')
    .option('--scope <scopes>', 'scopes to ask for', 'openid email phone profile')
    .option('--display-name <name>', 'shown on the button: "Continue with <name>"')
    .option('--usecase <usecase>', `how the local account is found: ${USECASES.join(', ')}`, 'local')
    .option('--user-attribute <claim>', 'the claim holding the local username (local: default preferred_username; userAttribute: required)')
    .option('--domains <list>', 'account domains searched in order; a just-in-time account goes into the first', 'primary')
    .option('--mobile-claim <claim>', 'the claim with the user\'s mobile number, used only when <claim>_verified is true')
    .option('--jit', 'create a local account on the first sign-in of someone who has none')
    .action((name: string, opts: AddOptions) => withDatabase(cli, async (ctx) => {
      const { domains } = checkAdd(name, opts);
      const secret = opts.clientSecretStdin ? await readSecret(cli.io, 'Client secret: ') : undefined;
      if (opts.clientSecretStdin && !secret) throw new CliError('no client secret on stdin');
      if (Object.hasOwn(ctx.config.federation.providers, name)) throw new CliError(`the config file already has a provider ${name} (federation.providers)`);
      try {
        await (await storedProviders(ctx)).insert({
          name, issuer: opts.issuer!, clientId: opts.clientId!, clientSecret: secret, scope: opts.scope, displayName: opts.displayName?.trim() ?? name,
          usecase: opts.usecase as Usecase, userAttribute: opts.userAttribute, domains, mobileClaim: opts.mobileClaim, jit: opts.jit === true,
        });
      } catch (err) {
        if (err instanceof UpstreamProviderExistsError) throw new CliError(err.message);
        throw err;
      }
      cli.out.log(`added identity provider ${name}\ncallback URL to register there: ${ctx.config.issuer}${callbackPath(name)}\noffer it to a client with: keystep client update <client_id> --first-step password,idp:${name}`);
    }));

  idp.command('list')
    .description('list upstream providers (from the config file and from idp add); secrets are never shown')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => withDatabase(cli, async (ctx) => {
      const stored = await (await storedProviders(ctx)).list();
      const fromFile = Object.entries(ctx.config.federation.providers).map(([name, p]) => ({ name, ...p, source: 'config' }));
      const rows = [...fromFile, ...stored.filter((p) => !Object.hasOwn(ctx.config.federation.providers, p.name)).map((p) => ({ ...p, source: 'cli' }))]
        .map((p) => ({
          name: p.name, issuer: p.issuer, client_id: p.clientId, secret: 'secretUnreadable' in p && p.secretUnreadable ? 'unreadable' : p.clientSecret ? 'set' : 'none', display_name: p.displayName ?? p.name,
          usecase: p.usecase, user_attribute: p.userAttribute ?? '', domains: p.domains.join(','), mobile_claim: p.mobileClaim ?? '', jit: p.jit, source: p.source,
        }));
      printRows(cli, rows, opts.json, 'no identity providers');
    }));

  idp.command('remove <name>')
    .description('remove a provider added with idp add, and its links to accounts')
    .action((name: string) => withDatabase(cli, async (ctx) => {
      if (!(await (await storedProviders(ctx)).remove(name))) {
        const inFile = Object.hasOwn(ctx.config.federation.providers, name);
        if (inFile) throw new CliError(`${name} is in the config file (federation.providers): remove it there`);
        throw new NotFoundError(`no identity provider ${name}`);
      }
      cli.out.log(`removed identity provider ${name}`);
    }));
}

/** `user link` and `user unlink`: an upstream identity (provider, subject) to a local account (usecase association). */
export function registerLinkCommands(program: Command, cli: Cli): void {
  const user = program.commands.find((c) => c.name() === 'user');
  if (!user) throw new Error('the user command is registered first');
  const known = async (ctx: Parameters<Parameters<typeof withDatabase>[1]>[0], name: string) =>
    Object.hasOwn(ctx.config.federation.providers, name) || (await (await storedProviders(ctx)).find(name)) !== undefined;

  user.command('link <username>')
    .description('link an account to its identity at an upstream provider (for usecase association)')
    .requiredOption('--idp <name>', 'the provider')
    .requiredOption('--subject <sub>', 'the user\'s subject (sub) at that provider')
    .action((username: string, opts: { idp: string; subject: string }) => withDatabase(cli, async (ctx) => {
      if (!(await known(ctx, opts.idp))) throw new NotFoundError(`no identity provider ${opts.idp}`);
      if (!opts.subject || opts.subject.length > 255) throw new CliError('--subject is 1 to 255 characters');
      const account = await accountRepository(ctx.database.db).findByUsername(username);
      if (!account) throw new NotFoundError(`no user named ${username}`);
      const links = await storedLinks(ctx);
      if ((await links.link(opts.idp, opts.subject, account.id)) === 'taken') {
        const holder = await links.findLinked(opts.idp, opts.subject);
        throw new CliError(`that identity is linked already${holder ? ` to ${accountName(holder)}` : ''}: unlink it first`);
      }
      await authEventRepository(ctx.database.db).record({ event: 'account.federated_link', result: 'info', accountId: account.id, reason: 'cli', detail: { provider: opts.idp } });
      cli.out.log(`linked ${accountName(account)} to ${opts.idp}`);
    }));

  user.command('unlink <username>')
    .description('remove the link of an account to its identity at an upstream provider')
    .requiredOption('--idp <name>', 'the provider')
    .option('--subject <sub>', 'only this subject (default: every link of the account to that provider)')
    .action((username: string, opts: { idp: string; subject?: string }) => withDatabase(cli, async (ctx) => {
      const account = await accountRepository(ctx.database.db).findByUsername(username);
      if (!account) throw new NotFoundError(`no user named ${username}`);
      const links = await storedLinks(ctx);
      const mine = (await links.listFor(account.id)).filter((l) => l.provider === opts.idp && (opts.subject === undefined || l.subject === opts.subject));
      if (!mine.length) throw new CliError(`${accountName(account)} has no link to ${opts.idp}${opts.subject ? ' with that subject' : ''}`);
      for (const l of mine) await links.unlink(l.provider, l.subject);
      await authEventRepository(ctx.database.db).record({ event: 'account.federated_unlink', result: 'info', accountId: account.id, reason: 'cli', detail: { provider: opts.idp } });
      cli.out.log(`unlinked ${accountName(account)} from ${opts.idp}`);
    }));
}
