import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { clientRepository, ClientExistsError, MFA_POLICIES, type MfaPolicy } from '../repositories/clients.ts';
import { upstreamProviderRepository } from '../repositories/upstream-providers.ts';
import { CliError, printRows, withDatabase, type Cli, type CommandContext } from './context.ts';
import { IDP_NAME } from './idp-commands.ts';

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Redirect URIs are compared by exact string; only https, or http on loopback for development. */
export function checkRedirectUri(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${uri} is not an absolute URL`;
  }
  if (url.hash) return `${uri} must not have a fragment`;
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback) return `${uri} must use https (http is allowed only for localhost)`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && !/^[a-z][a-z0-9.+-]*\.[a-z0-9.+-]+:$/.test(url.protocol)) {
    return `${uri} must use https, http on localhost, or a private-use scheme such as com.example.app:`;
  }
  return undefined;
}

interface AddOptions {
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  public?: boolean;
  json?: boolean;
  consent?: boolean;
  mfa?: string;
  name?: string;
  authMethod?: string;
  firstStep?: string;
}

const MFA_HELP = 'required, optional or phishing-resistant (a passkey is required): override smsOtp.mandatory for this client';
const MFA_ERROR = '--mfa is required, optional or phishing-resistant';
const isMfaPolicy = (value: string): value is MfaPolicy => (MFA_POLICIES as readonly string[]).includes(value);

const FIRST_STEP_HELP = 'the first-stage sign-ins offered, in order: password and idp:<name> (e.g. password,idp:acme); default password';

/** `--first-step password,idp:acme`: each entry known, none twice, at least one. */
async function parseFirstSteps(ctx: CommandContext, value: string): Promise<string[]> {
  const steps = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!steps.length) throw new CliError(`--first-step: ${FIRST_STEP_HELP}`);
  const problems: string[] = [];
  for (const step of new Set(steps)) {
    if (step === 'password') continue;
    const name = step.startsWith('idp:') ? step.slice(4) : undefined;
    if (name === undefined || !IDP_NAME.test(name)) problems.push(`--first-step: ${step} is neither password nor idp:<name>`);
    else if (!Object.hasOwn(ctx.config.federation.providers, name) && !(await upstreamProviderRepository(ctx.database.db).find(name))) {
      problems.push(`--first-step: no identity provider ${name} (add it with keystep idp add)`);
    }
  }
  if (new Set(steps).size !== steps.length) problems.push('--first-step names an entry twice');
  if (problems.length) throw new CliError(problems.join('\n'));
  return steps;
}

export function registerClientCommands(program: Command, cli: Cli): void {
  const client = program.command('client').description('manage relying-party applications (OIDC clients)');

  client.command('add <client_id>')
    .description('register a client; a confidential client gets a secret, printed once')
    .option('--redirect-uri <uri>', 'a redirect URI (repeat for several)', collect)
    .option('--post-logout-redirect-uri <uri>', 'where RP-initiated logout may return (repeat for several)', collect)
    .option('--public', 'a public client (SPA or native app): no secret, PKCE only')
    .option('--consent', 'a third-party client: users see a consent page')
    .option('--mfa <policy>', MFA_HELP)
    .option('--first-step <list>', FIRST_STEP_HELP)
    .option('--name <name>', 'name shown on the sign-in page')
    .option('--auth-method <method>', `token endpoint authentication: ${AUTH_METHODS.join(' or ')}`, 'client_secret_basic')
    .option('--json', 'print {"client_id", "client_secret"} as JSON')
    .action((clientId: string, opts: AddOptions) => withDatabase(cli, async (ctx) => {
      if (!CLIENT_ID.test(clientId)) throw new CliError('a client_id is 1 to 128 letters, digits or . _ ~ -');
      const redirectUris = opts.redirectUri ?? [];
      if (redirectUris.length === 0) throw new CliError('give at least one --redirect-uri');
      const problems = [...redirectUris, ...(opts.postLogoutRedirectUri ?? [])].map(checkRedirectUri).filter(Boolean);
      if (problems.length) throw new CliError(problems.join('\n'));
      if (opts.mfa !== undefined && !isMfaPolicy(opts.mfa)) throw new CliError(MFA_ERROR);
      if (!opts.public && !AUTH_METHODS.includes(opts.authMethod as never)) throw new CliError(`--auth-method is ${AUTH_METHODS.join(' or ')}`);

      const secret = opts.public ? undefined : randomBytes(32).toString('base64url');
      const metadata: Record<string, unknown> = {
        redirect_uris: redirectUris,
        post_logout_redirect_uris: opts.postLogoutRedirectUri ?? [],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: opts.public ? 'none' : opts.authMethod,
        ...(secret ? { client_secret: secret } : {}),
        ...(opts.name ? { client_name: opts.name } : {}),
      };
      const firstSteps = opts.firstStep === undefined ? null : await parseFirstSteps(ctx, opts.firstStep);
      try {
        await clientRepository(ctx.database.db).insert({
          clientId, metadata, consentRequired: opts.consent === true, mfa: (opts.mfa as MfaPolicy | undefined) ?? null, firstSteps,
        });
      } catch (err) {
        if (err instanceof ClientExistsError) throw new CliError(err.message);
        throw err;
      }
      if (opts.json) {
        cli.out.log(JSON.stringify({ client_id: clientId, ...(secret ? { client_secret: secret } : {}) }));
      } else {
        cli.out.log(`created ${opts.public ? 'public' : 'confidential'} client ${clientId}`);
        if (secret) cli.out.log(`client_secret: ${secret}\nKeep it safe: it is not shown again.`);
      }
    }));

  client.command('update <client_id>')
    .description('change a client\'s policy (a running server notices within 5 seconds)')
    .option('--mfa <policy>', `${MFA_HELP}; default: follow smsOtp.mandatory again`)
    .option('--first-step <list>', `${FIRST_STEP_HELP}; default: password only again`)
    .action((clientId: string, opts: { mfa?: string; firstStep?: string }) => withDatabase(cli, async (ctx) => {
      if (opts.mfa === undefined && opts.firstStep === undefined) throw new CliError('give --mfa or --first-step');
      if (opts.mfa !== undefined && opts.mfa !== 'default' && !isMfaPolicy(opts.mfa)) throw new CliError(`${MFA_ERROR} or default`);
      const clients = clientRepository(ctx.database.db);
      const steps = opts.firstStep === undefined || opts.firstStep === 'default' ? null : await parseFirstSteps(ctx, opts.firstStep);
      if (!(await clients.find(clientId))) throw new CliError(`no client ${clientId}`);
      if (opts.mfa !== undefined) {
        await clients.setMfa(clientId, opts.mfa === 'default' ? null : (opts.mfa as MfaPolicy));
        cli.out.log(`client ${clientId}: mfa ${opts.mfa}`);
      }
      if (opts.firstStep !== undefined) {
        await clients.setFirstSteps(clientId, steps);
        cli.out.log(`client ${clientId}: first step ${steps ? steps.join(',') : 'password (default)'}`);
      }
    }));

  client.command('list')
    .description('list clients')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => withDatabase(cli, async (ctx) => {
      const rows = (await clientRepository(ctx.database.db).list()).map((c) => ({
        client_id: c.clientId,
        type: c.metadata.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
        redirect_uris: (c.metadata.redirect_uris as string[]).join(' '),
        consent: c.consentRequired,
        mfa: c.mfa ?? 'default',
        first_step: c.firstSteps?.join(',') ?? 'password',
      }));
      printRows(cli, rows, opts.json, 'no clients');
    }));

  client.command('remove <client_id>')
    .description('delete a client; its tokens stop working (a running server notices within 5 seconds)')
    .action((clientId: string) => withDatabase(cli, async (ctx) => {
      if (!(await clientRepository(ctx.database.db).remove(clientId))) throw new CliError(`no client ${clientId}`);
      cli.out.log(`removed client ${clientId}`);
    }));
}
