import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.ts';
import { GatewayConfigError } from '../sms/gateway-settings.ts';
import { registerAbuseCommands } from './abuse-commands.ts';
import { registerAuditCommands } from './audit-commands.ts';
import { registerClientCommands } from './client-commands.ts';
import { registerKeysCommands } from './keys-commands.ts';
import { CliError, cliOf, EXIT, type Cli, type CliIo } from './context.ts';
import { registerImportCommands } from './import-commands.ts';
import { registerIdpCommands, registerLinkCommands } from './idp-commands.ts';
import { registerMigrateCommands } from './migrate-commands.ts';
import { registerSmsCommands } from './sms-commands.ts';
import { registerUserCommands } from './user-commands.ts';
import { registerUserImport } from './user-import.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function buildProgram(cli: Cli): Command {
  const program = new Command('keystep')
    .description('Keystep: an OpenID Connect provider with a password and SMS one-time-code login')
    .option('--debug', 'print the stack trace of an error after its message')
    // Set before the commands are added, which inherit them.
    .configureOutput({ writeOut: (s) => cli.io.stdout.write(s), writeErr: (s) => cli.io.stderr.write(s) })
    .showHelpAfterError()
    .version(version)
    .exitOverride();
  // Loaded on demand: the other commands need neither the provider nor the web stack.
  program.command('serve').description('run the server (the default command)').action(async () => (await import('./serve.ts')).serve(cli));
  registerMigrateCommands(program, cli);
  registerUserCommands(program, cli);
  registerClientCommands(program, cli);
  registerSmsCommands(program, cli);
  registerAbuseCommands(program, cli);
  registerAuditCommands(program, cli);
  registerKeysCommands(program, cli);
  registerImportCommands(program, cli);
  registerUserImport(program.commands.find((c) => c.name() === 'user')!, cli);
  registerIdpCommands(program, cli);
  registerLinkCommands(program, cli);
  return program;
}

/** Mistakes a person can put right from the message alone. */
const explained = (err: unknown) => err instanceof ConfigError || err instanceof CliError || err instanceof GatewayConfigError;

/** One line for an error that explains itself less well (a driver's AggregateError has no message of its own). */
function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message) return err.message;
  if (err instanceof AggregateError) return err.errors.map(messageOf).join('; ');
  return (err as { code?: string }).code ?? err.name;
}

/**
 * Runs one `keystep` command line (the arguments after the program name) against the given
 * streams, and answers its exit status. `serve` answers 0 once it listens and goes on serving.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const program = buildProgram(cliOf(io));
  try {
    // Without a command (global options at most) Keystep serves.
    const commandGiven = args.some((a) => a !== '--debug');
    await program.parseAsync(commandGiven ? args : [...args, 'serve'], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    // Commander has printed its message (and the help); only help and --version end well.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    // A stack trace only on request: after a clear message it reads as a crash of Keystep.
    const debug = program.opts<{ debug?: boolean }>().debug === true;
    io.stderr.write(`keystep: ${messageOf(err)}\n`);
    if (debug) io.stderr.write(`${err instanceof Error ? err.stack ?? '' : ''}\n`);
    else if (!explained(err)) io.stderr.write('(run the command again with --debug for the stack trace)\n');
    return err instanceof CliError ? err.exitCode : EXIT.failure;
  }
}

/**
 * `keystep` as a process: its own streams, and the environment the binary hands in (src/config is
 * the only code that reads the process's own); exits when the command is done, or serves until a signal.
 */
export async function main(argv: string[], env: CliIo['env']): Promise<void> {
  let serving = false;
  const code = await run(argv.slice(2), {
    env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    serving(stop) {
      serving = true;
      const onSignal = (signal: string) => void stop(signal).then(() => process.exit(0));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    },
  });
  // Open handles (the embedded Postgres's exit hooks, pools) must not keep a finished command alive.
  if (!serving) process.exit(code);
}
