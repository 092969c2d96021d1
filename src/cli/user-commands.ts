import type { Command } from 'commander';
import { BACKUP_CODE_COUNT, issueBackupCodes } from '../login/factors/backup-code/codes.ts';
import { checkNewPassword, describePasswordProblem } from '../login/passwords.ts';
import { backupCodeRepository } from '../repositories/backup-codes.ts';
import { passwordFailureRepository } from '../repositories/password-failures.ts';
import { passkeyCredentialRepository } from '../repositories/passkey-credentials.ts';
import { totpCredentialRepository } from '../repositories/totp-credentials.ts';
import { usernameKey } from '../login/factors/password/factor.ts';
import { cryptoRandom } from '../shared/random.ts';
import { accountRepository, UsernameTakenError, type Account } from '../repositories/accounts.ts';
import { accountRevocation } from '../repositories/account-revocation.ts';
import { authEventRepository } from '../repositories/auth-events.ts';
import { accountName, isUsername, parseDomain, PRIMARY_DOMAIN, type AccountName } from '../shared/account-name.ts';
import { oidcPayloadRepository } from '../repositories/oidc-payloads.ts';
import { maskPhone, normalizeMobile } from '../shared/phone.ts';
import { destinationAllowed } from '../sms/destination-policy.ts';
import { CliError, NotFoundError, UsageError, printRows, withDatabase, type Cli, type CommandContext } from './context.ts';
import { readNewPassword } from './password-input.ts';

/** A new account's domain and username from `username` or `domain/username`, or why it cannot be one. */
export function newAccountName(name: string): AccountName {
  const slash = name.indexOf('/');
  const domain = slash < 0 ? PRIMARY_DOMAIN : parseDomain(name.slice(0, slash));
  if (!domain) throw new CliError('a domain is 1 to 32 letters a-z, digits, _ or -, starting with a letter or digit');
  const username = slash < 0 ? name : name.slice(slash + 1);
  if (!isUsername(username)) throw new CliError('a username is 1 to 64 letters, digits or . _ @ + -');
  return { domain, username };
}

export function parsePhone(input: string, allowedCountries: readonly string[]): string {
  const result = normalizeMobile(input);
  if (!result.ok) {
    throw new CliError(result.problem === 'NOT_MOBILE'
      ? `${input} is not a mobile number that can receive SMS`
      : `${input} is not a valid phone number; give it in E.164 form, e.g. +447400123456`);
  }
  if (!destinationAllowed(result.e164, allowedCountries)) throw new CliError(`${input}: SMS to this country are not allowed (sms.allowedCountries)`);
  return result.e164;
}

async function hashNewPassword(ctx: CommandContext): Promise<string> {
  const password = await readNewPassword(ctx.cli.io);
  const problem = checkNewPassword(password, ctx.config.password);
  if (problem) throw new CliError(describePasswordProblem(problem, ctx.config.password));
  return ctx.cli.hasher().hash(password);
}

async function findUser(ctx: CommandContext, username: string): Promise<Account> {
  const account = await accountRepository(ctx.database.db).findByUsername(username);
  if (!account) throw new NotFoundError(`no user named ${username}`);
  return account;
}

function audit(ctx: CommandContext, event: string, accountId: string, detail: Record<string, unknown> = {}) {
  return authEventRepository(ctx.database.db).record({ event, result: 'info', accountId, reason: 'cli', detail });
}

type Accounts = ReturnType<typeof accountRepository>;

/** What an operator changed, for the audit trail and the terminal. */
interface Change {
  cause: string;
  apply(accounts: Accounts): Promise<void>;
  event?: string;
  detail?: Record<string, unknown>;
  message?: string;
}

/**
 * An operator's change to an account (or none), and the end of every session, grant, token and
 * login in progress of it, in one transaction: a new password or number, or a disable, is how an
 * operator evicts someone who got in, so nothing issued before it may outlive it.
 */
async function changeAndSignOut(ctx: CommandContext, account: Account, change: Change): Promise<void> {
  const revoked = await ctx.database.db.transaction().execute(async (trx) => {
    await change.apply(accountRepository(trx));
    return accountRevocation(trx).revoke(account.id);
  });
  if (change.event) await audit(ctx, change.event, account.id, change.detail);
  if (change.message) ctx.cli.out.log(change.message);
  await audit(ctx, 'user.signed_out_everywhere', account.id, { cause: change.cause, ...revoked });
  ctx.cli.out.log(`signed ${accountName(account)} out everywhere: ended ${revoked.sessions} session(s), ${revoked.grants} grant(s), ${revoked.tokens} token(s) and ${revoked.logins} login(s) in progress`);
}

interface ListOptions {
  search?: string;
  disabled?: boolean;
  locked?: boolean;
  phone?: boolean;
  factor?: string;
  json?: boolean;
}

/** disabled, locked (by wrong passwords or codes, until the lock ends), or active. */
async function statusOf(ctx: CommandContext, account: Account): Promise<'disabled' | 'locked' | 'active'> {
  if (account.disabled) return 'disabled';
  const now = new Date();
  const passwordLock = (await passwordFailureRepository(ctx.database.db).find(usernameKey(accountName(account))))?.lockedUntil;
  return [account.otpLockedUntil, passwordLock].some((until) => until && until > now) ? 'locked' : 'active';
}

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

async function describeUser(ctx: CommandContext, account: Account) {
  const db = ctx.database.db;
  const live = await oidcPayloadRepository(db).countForAccount(account.id);
  return {
    username: accountName(account),
    id: account.id,
    status: await statusOf(ctx, account),
    phone: maskPhone(account.phone) || null,
    phone_verified: iso(account.phoneVerifiedAt),
    sms_otp_exempt: account.smsOtpExempt,
    created: account.createdAt.toISOString(),
    last_sign_in: iso(await authEventRepository(db).lastOf(account.id, 'login.completed')),
    sessions: live.Session ?? 0,
    grants: live.Grant ?? 0,
    passkeys: (await passkeyCredentialRepository(db).list(account.id)).length,
    backup_codes_left: await backupCodeRepository(db).countUnused(account.id),
    factors: account.factors.map((f) => ({ id: f.id, enrolled: f.enrolledAt.toISOString(), last_used: iso(f.lastUsedAt) })),
  };
}

export function registerUserCommands(program: Command, cli: Cli): void {
  const user = program.command('user').description('manage user accounts');

  user.command('add <username>')
    .description('create a user (domain/username for a domain other than primary); the password is read from stdin (first line) or prompted for twice')
    .option('--phone <e164>', 'mobile number for the SMS code, in E.164 form')
    .action((name: string, opts: { phone?: string }) => withDatabase(cli, async (ctx) => {
      const { domain, username } = newAccountName(name);
      const phone = opts.phone ? parsePhone(opts.phone, ctx.config.sms.allowedCountries) : null;
      const accounts = accountRepository(ctx.database.db);
      const shown = accountName({ domain, username });
      if (await accounts.findInDomain(domain, username)) throw new CliError(`the username ${shown} is taken`);
      const passwordHash = await hashNewPassword(ctx);
      try {
        const account = await accounts.create({ domain, username, passwordHash, phone });
        if (phone) await accounts.setPhone(account.id, phone, new Date());
        await audit(ctx, 'user.created', account.id);
        cli.out.log(`created user ${shown}`);
      } catch (err) {
        if (err instanceof UsernameTakenError) throw new CliError(err.message);
        throw err;
      }
    }));

  user.command('list')
    .description('list users; the filters combine')
    .option('--search <text>', 'usernames containing this text, any case')
    .option('--disabled', 'only disabled users')
    .option('--locked', 'only users locked by failed passwords or codes')
    .option('--no-phone', 'only users without a mobile number')
    .option('--factor <id>', 'only users with this factor (totp, passkey, backup-code, sms-otp when used)')
    .option('--json', 'print JSON')
    .action((opts: ListOptions) => withDatabase(cli, async (ctx) => {
      const accounts = await accountRepository(ctx.database.db).list({
        search: opts.search, disabled: opts.disabled ? true : undefined, hasPhone: opts.phone === false ? false : undefined,
      });
      const rows = [];
      for (const a of accounts) {
        if (opts.factor !== undefined && !a.factors.some((f) => f.id === opts.factor)) continue;
        const status = await statusOf(ctx, a);
        if (opts.locked && status !== 'locked') continue;
        rows.push({ username: accountName(a), phone: maskPhone(a.phone), status, created: a.createdAt.toISOString() });
      }
      printRows(cli, rows, opts.json, 'no users');
    }));

  user.command('show <username>')
    .description('everything about a user but secrets: status, number (masked), factors, sessions, last sign-in')
    .option('--json', 'print JSON')
    .action((username: string, opts: { json?: boolean }) => withDatabase(cli, async (ctx) => {
      const details = await describeUser(ctx, await findUser(ctx, username));
      if (opts.json) return void cli.out.log(JSON.stringify(details, null, 2));
      for (const [key, value] of Object.entries(details)) {
        if (key !== 'factors') cli.out.log(`${`${key}:`.padEnd(20)}${value ?? '-'}`);
      }
      cli.out.log('factors:');
      for (const f of details.factors) cli.out.log(`  ${f.id.padEnd(12)}added ${f.enrolled}, last used ${f.last_used ?? 'never'}`);
      if (!details.factors.length) cli.out.log('  none beyond the password');
    }));

  user.command('delete <username>')
    .description('delete a user with their sessions, grants, tokens, logins in progress, factors and links (cannot be undone)')
    .option('--yes', 'confirm the deletion')
    .action((username: string, opts: { yes?: boolean }) => withDatabase(cli, async (ctx) => {
      const account = await findUser(ctx, username);
      if (!opts.yes) throw new UsageError(`deleting ${accountName(account)} cannot be undone: run it again with --yes`);
      const revoked = await ctx.database.db.transaction().execute(async (trx) => {
        const ended = await accountRevocation(trx).revoke(account.id);
        await passwordFailureRepository(trx).clear(usernameKey(accountName(account)));
        if (!(await accountRepository(trx).remove(account.id))) throw new NotFoundError(`no user named ${username}`);
        return ended;
      });
      // The account is gone, so the event names it in its detail only (its earlier events stay, unlinked, until the retention).
      await authEventRepository(ctx.database.db).record({ event: 'user.deleted', result: 'info', accountId: null, reason: 'cli', detail: { accountId: account.id, ...revoked } });
      cli.out.log(`deleted user ${accountName(account)}: ended ${revoked.sessions} session(s), ${revoked.grants} grant(s), ${revoked.tokens} token(s) and ${revoked.logins} login(s) in progress`);
    }));

  user.command('set-password <username>')
    .description('set a new password (read like `user add`); ends every session and token of the user')
    .action((username: string) => withDatabase(cli, async (ctx) => {
      const account = await findUser(ctx, username);
      const passwordHash = await hashNewPassword(ctx);
      await changeAndSignOut(ctx, account, {
        cause: 'set-password', apply: (accounts) => accounts.setPasswordHash(account.id, passwordHash),
        event: 'user.password_set', message: `password of ${accountName(account)} changed`,
      });
    }));

  user.command('set-phone <username> [e164]')
    .description('set the mobile number (an operator-set number counts as verified); --clear removes it; ends every session and token of the user')
    .option('--clear', 'remove the number')
    .action((username: string, phoneArg: string | undefined, opts: { clear?: boolean }) => withDatabase(cli, async (ctx) => {
      const account = await findUser(ctx, username);
      if (!opts.clear && !phoneArg) throw new UsageError('give a number in E.164 form, or --clear');
      const phone = opts.clear ? null : parsePhone(phoneArg!, ctx.config.sms.allowedCountries);
      await changeAndSignOut(ctx, account, {
        cause: 'set-phone', apply: (accounts) => accounts.setPhone(account.id, phone, phone ? new Date() : null),
        event: 'user.phone_set', detail: { phone: maskPhone(phone) },
        message: phone ? `number of ${accountName(account)} set to ${maskPhone(phone)}` : `number of ${accountName(account)} removed`,
      });
    }));

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    user.command(`${name} <username>`)
      .description(disabled ? 'stop a user from signing in; ends every session and token of the user' : 'allow a disabled user to sign in again')
      .action((username: string) => withDatabase(cli, async (ctx) => {
        const account = await findUser(ctx, username);
        const event = disabled ? 'user.disabled' : 'user.enabled';
        const message = `${accountName(account)} ${disabled ? 'disabled' : 'enabled'}`;
        const apply = (accounts: Accounts) => accounts.setDisabled(account.id, disabled);
        if (disabled) return changeAndSignOut(ctx, account, { cause: name, apply, event, message });
        // Enabling brings back no session or token: disabling ended them.
        await apply(accountRepository(ctx.database.db));
        await audit(ctx, event, account.id);
        cli.out.log(message);
      }));
  }

  user.command('revoke <username>')
    .description('sign a user out everywhere: end every session, grant, token and login in progress')
    .action((username: string) => withDatabase(cli, async (ctx) => {
      await changeAndSignOut(ctx, await findUser(ctx, username), { cause: 'revoke', apply: async () => {} });
    }));

  registerSecondFactorCommands(user, cli);

  user.command('unlock <username>')
    .description('clear failed password and code counts and the locks they set')
    .action((username: string) => withDatabase(cli, async (ctx) => {
      const account = await findUser(ctx, username);
      await accountRepository(ctx.database.db).clearOtpFailures(account.id);
      await passwordFailureRepository(ctx.database.db).clear(usernameKey(accountName(account)));
      await audit(ctx, 'user.unlocked', account.id);
      cli.out.log(`${accountName(account)} unlocked`);
    }));
}

function registerSecondFactorCommands(user: Command, cli: Cli): void {
  user.command('backup-codes <username>')
    .description(`print ${BACKUP_CODE_COUNT} fresh backup codes, once; they replace any earlier ones`)
    .action((username: string) => withDatabase(cli, async (ctx) => {
      const account = await findUser(ctx, username);
      const codes = await issueBackupCodes(backupCodeRepository(ctx.database.db), ctx.cli.hasher(), cryptoRandom, account.id);
      await audit(ctx, 'user.backup_codes_generated', account.id, { count: codes.length });
      cli.out.log(`Backup codes for ${accountName(account)} (each works once; earlier codes no longer work):\n`);
      for (const code of codes) cli.out.log(`  ${code}`);
      cli.out.log('\nHand them over safely: they are not shown again.');
    }));

  user.command('totp').description('the user\'s authenticator app')
    .command('remove <username>')
    .description('remove the user\'s authenticator app; its codes stop working at once')
    .action((username: string) => withDatabase(cli, async (ctx) => {
      const account = await findUser(ctx, username);
      if (!(await totpCredentialRepository(ctx.database.db).remove(account.id))) return void cli.out.log(`${accountName(account)} has no authenticator app`);
      await audit(ctx, 'user.totp_removed', account.id);
      cli.out.log(`authenticator app of ${accountName(account)} removed`);
    }));

  const passkey = user.command('passkey').description('the user\'s passkeys');
  passkey.command('list <username>')
    .description('list the user\'s passkeys: name, when added and last used, whether synced')
    .option('--json', 'print JSON')
    .action((username: string, opts: { json?: boolean }) => withDatabase(cli, async (ctx) => {
      const account = await findUser(ctx, username);
      const keys = await passkeyCredentialRepository(ctx.database.db).list(account.id);
      if (opts.json) {
        const rows = keys.map((k) => ({ name: k.name, added: k.createdAt.toISOString(), last_used: iso(k.lastUsedAt), synced: k.backedUp }));
        return void cli.out.log(JSON.stringify(rows, null, 2));
      }
      if (!keys.length) return void cli.out.log(`${accountName(account)} has no passkey`);
      const at = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : 'never');
      for (const k of keys) cli.out.log(`${k.name}\tadded ${at(k.createdAt)}\tlast used ${at(k.lastUsedAt)}\t${k.backedUp ? 'synced' : 'device-bound'}`);
    }));
  passkey.command('remove <username> <name>')
    .description('remove the user\'s passkeys of that name (a lost device); they stop working at once')
    .action((username: string, name: string) => withDatabase(cli, async (ctx) => {
      const account = await findUser(ctx, username);
      const store = passkeyCredentialRepository(ctx.database.db);
      const named = (await store.list(account.id)).filter((k) => k.name === name);
      if (!named.length) return void cli.out.log(`${accountName(account)} has no passkey named ${JSON.stringify(name)}`);
      for (const k of named) await store.remove(account.id, k.id);
      await audit(ctx, 'user.passkey_removed', account.id, { count: named.length });
      cli.out.log(`${named.length === 1 ? 'passkey' : `${named.length} passkeys`} ${JSON.stringify(name)} of ${accountName(account)} removed`);
    }));

  user.command('set-sms-otp <username> <on|off>')
    .description('exempt a user from the SMS code (off) or not (on); honoured only with smsOtp.enableByUserClaim')
    .action((username: string, value: string) => withDatabase(cli, async (ctx) => {
      if (value !== 'on' && value !== 'off') throw new CliError('say on or off');
      const account = await findUser(ctx, username);
      await accountRepository(ctx.database.db).setSmsOtpExempt(account.id, value === 'off');
      await audit(ctx, value === 'off' ? 'user.sms_otp_exempted' : 'user.sms_otp_required', account.id);
      const note = ctx.config.smsOtp.enableByUserClaim ? '' : ' (note: smsOtp.enableByUserClaim is off, so exemptions are not honoured)';
      cli.out.log(`SMS code for ${accountName(account)}: ${value}${note}`);
    }));
}
