import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { livePreviousSecrets, PREVIOUS_SECRETS_PROPERTY, previousSecret } from '../oidc/previous-secrets.ts';
import { authEventRepository } from '../repositories/auth-events.ts';
import { clientRepository, ClientExistsError, MFA_POLICIES, type MfaPolicy, type StoredClient } from '../repositories/clients.ts';
import { CliError, NotFoundError, printRows, UsageError, withDatabase, type Cli, type CommandContext } from './context.ts';
import { durationOption } from './durations.ts';
import { IDP_NAME, storedProviders } from './idp-commands.ts';
import { isLoopback } from '../shared/loopback.ts';

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
  if (url.protocol === 'http:' && !isLoopback(url)) return `${uri} must use https (http is allowed only for localhost)`;
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
    else if (!Object.hasOwn(ctx.config.federation.providers, name) && !(await (await storedProviders(ctx)).find(name))) {
      problems.push(`--first-step: no identity provider ${name} (add it with keystep idp add)`);
    }
  }
  if (new Set(steps).size !== steps.length) problems.push('--first-step names an entry twice');
  if (problems.length) throw new CliError(problems.join('\n'));
  return steps;
}

const MAX_GRACE_SECONDS = 30 * 86_400;

/** What `client update` collects from its options before one statement applies it. */
interface ClientChange {
  metadata: Record<string, unknown>;
  consentRequired?: boolean;
  mfa?: MfaPolicy | null;
  /** `--first-step` as given (checked against the providers once the database is open). */
  firstStep?: string;
  /** What was changed, for the message. */
  changed: string[];
}

function checkUris(uris: string[]): string[] {
  const problems = uris.map(checkRedirectUri).filter(Boolean);
  if (problems.length) throw new CliError(problems.join('\n'));
  return uris;
}

/**
 * The options of `client update`, one line each: the option, and what its value changes. An option
 * not given is not applied; a negated option (`--no-…`) is applied only when given.
 */
const CLIENT_UPDATES: { option: Option; apply(value: never, change: ClientChange): void }[] = [
  { option: new Option('--redirect-uri <uri>', 'the redirect URIs, replacing the current ones (repeat for several)').argParser(collect), apply: (v: string[], c) => { c.metadata.redirect_uris = checkUris(v); c.changed.push('redirect URIs'); } },
  { option: new Option('--post-logout-redirect-uri <uri>', 'the post-logout URIs, replacing the current ones (repeat for several)').argParser(collect), apply: (v: string[], c) => { c.metadata.post_logout_redirect_uris = checkUris(v); c.changed.push('post-logout URIs'); } },
  { option: new Option('--no-post-logout-redirect-uris', 'remove every post-logout URI').default(undefined), apply: (v: boolean, c) => { if (!v) { c.metadata.post_logout_redirect_uris = []; c.changed.push('post-logout URIs removed'); } } },
  { option: new Option('--mfa <policy>', `${MFA_HELP}; default: follow smsOtp.mandatory again`), apply: (v: string, c) => { if (v !== 'default' && !isMfaPolicy(v)) throw new CliError(`${MFA_ERROR} or default`); c.mfa = v === 'default' ? null : v; c.changed.push(`mfa ${v}`); } },
  { option: new Option('--consent', 'users see a consent page (a third-party client)'), apply: (v: boolean, c) => { c.consentRequired = v; c.changed.push(v ? 'consent required' : 'no consent page'); } },
  { option: new Option('--no-consent', 'no consent page (a first-party client)'), apply: () => {} },
  { option: new Option('--name <name>', 'name shown on the sign-in page'), apply: (v: string, c) => { c.metadata.client_name = v; c.changed.push('name'); } },
  { option: new Option('--first-step <list>', `${FIRST_STEP_HELP}; \`default\` goes back to it`), apply: (v: string, c) => { c.firstStep = v; c.changed.push(`first step ${v === 'default' ? 'password (default)' : v}`); } },
];

/** A client as an operator reads it: its settings, and of its secrets only whether an earlier one still works. */
function describeClient(c: StoredClient, now: Date) {
  const m = c.metadata;
  const previous = livePreviousSecrets(m[PREVIOUS_SECRETS_PROPERTY], now).map((p) => new Date(p.expires_at * 1000).toISOString());
  return {
    client_id: c.clientId,
    type: m.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    name: typeof m.client_name === 'string' ? m.client_name : null,
    redirect_uris: (m.redirect_uris as string[] | undefined) ?? [],
    post_logout_redirect_uris: (m.post_logout_redirect_uris as string[] | undefined) ?? [],
    token_endpoint_auth_method: m.token_endpoint_auth_method ?? 'client_secret_basic',
    consent: c.consentRequired,
    mfa: c.mfa ?? 'default',
    first_step: c.firstSteps?.join(',') ?? 'password',
    previous_secret_expires_at: previous.length ? previous.sort().at(-1)! : null,
    created: c.createdAt.toISOString(),
  };
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
      if (redirectUris.length === 0) throw new UsageError('give at least one --redirect-uri');
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

  const update = client.command('update <client_id>')
    .description('change a client\'s settings; what is not named stays, the secret too (a running server notices within 5 seconds)');
  for (const { option } of CLIENT_UPDATES) update.addOption(option);
  update.action((clientId: string, opts: Record<string, unknown>) => withDatabase(cli, async (ctx) => {
    const change: ClientChange = { metadata: {}, changed: [] };
    for (const { option, apply } of CLIENT_UPDATES) {
      const value = opts[option.attributeName()];
      if (value !== undefined) apply(value as never, change);
    }
    if (!change.changed.length) throw new UsageError(`say what to change: ${CLIENT_UPDATES.map((u) => u.option.long).join(', ')}`);
    const { metadata, consentRequired, mfa, firstStep } = change;
    const steps = firstStep === undefined || firstStep === 'default' ? null : await parseFirstSteps(ctx, firstStep);
    const patch = { ...(Object.keys(metadata).length ? { metadata } : {}), consentRequired, mfa, ...(firstStep !== undefined ? { firstSteps: steps } : {}) };
    // Everything named, in one statement.
    if (!(await clientRepository(ctx.database.db).update(clientId, patch))) throw new NotFoundError(`no client ${clientId}`);
    cli.out.log(`client ${clientId}: ${change.changed.join(', ')}`);
  }));

  client.command('show <client_id>')
    .description('a client\'s settings (never its secret)')
    .option('--json', 'print JSON')
    .action((clientId: string, opts: { json?: boolean }) => withDatabase(cli, async (ctx) => {
      const found = await clientRepository(ctx.database.db).find(clientId);
      if (!found) throw new NotFoundError(`no client ${clientId}`);
      const details = describeClient(found, new Date());
      if (opts.json) return void cli.out.log(JSON.stringify(details, null, 2));
      for (const [key, value] of Object.entries(details)) {
        const shown = Array.isArray(value) ? (value.length ? value.join(' ') : '-') : value ?? '-';
        cli.out.log(`${`${key}:`.padEnd(28)}${shown}`);
      }
    }));

  client.command('rotate-secret <client_id>')
    .description('give a confidential client a new secret, printed once; the old one keeps working for the grace period')
    .option('--grace <duration>', 'how long the old secret keeps working, such as 30m, 12h or 7d (0s: not at all)', '24h')
    .option('--json', 'print {"client_id", "client_secret", "previous_secret_expires_at"} as JSON')
    .action((clientId: string, opts: { grace: string; json?: boolean }) => withDatabase(cli, async (ctx) => {
      const grace = durationOption('--grace', opts.grace);
      if (grace > MAX_GRACE_SECONDS) throw new UsageError('--grace is at most 30d');
      const now = new Date();
      // Whole seconds, as it is kept.
      const expiresAt = new Date(Math.floor(now.getTime() / 1000 + grace) * 1000);
      const secret = randomBytes(32).toString('base64url');
      const rotated = await clientRepository(ctx.database.db).replaceMetadata(clientId, (metadata) => {
        const old = metadata.client_secret;
        if (metadata.token_endpoint_auth_method === 'none' || typeof old !== 'string') throw new CliError(`${clientId} is a public client: it has no secret`);
        const previous = [...livePreviousSecrets(metadata[PREVIOUS_SECRETS_PROPERTY], now), ...(grace > 0 ? [previousSecret(old, expiresAt)] : [])];
        return { ...metadata, client_secret: secret, [PREVIOUS_SECRETS_PROPERTY]: previous };
      });
      if (!rotated) throw new NotFoundError(`no client ${clientId}`);
      await authEventRepository(ctx.database.db).record({ event: 'client.secret_rotated', result: 'info', clientId, reason: 'cli', detail: { graceSeconds: grace } });
      const until = grace > 0 ? expiresAt.toISOString() : null;
      if (opts.json) return void cli.out.log(JSON.stringify({ client_id: clientId, client_secret: secret, previous_secret_expires_at: until }));
      cli.out.log(`new client_secret for ${clientId}: ${secret}\nKeep it safe: it is not shown again.`);
      cli.out.log(until ? `The previous secret works until ${until}.` : 'The previous secret no longer works.');
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
      if (!(await clientRepository(ctx.database.db).remove(clientId))) throw new NotFoundError(`no client ${clientId}`);
      cli.out.log(`removed client ${clientId}`);
    }));
}
