import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.ts';
import { GatewayConfigError } from '../sms/gateway-settings.ts';
import { registerClientCommands } from './client-commands.ts';
import { CliError } from './context.ts';
import { registerMigrateCommands } from './migrate-commands.ts';
import { registerSmsCommands } from './sms-commands.ts';
import { registerUserCommands } from './user-commands.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function buildProgram(): Command {
  const program = new Command('keystep')
    .description('Keystep: an OpenID Connect provider with a password and SMS one-time-code login')
    .showHelpAfterError()
    .version(version)
    .exitOverride();
  // Loaded on demand: the other commands need neither the provider nor the web stack.
  program.command('serve').description('run the server (the default command)').action(async () => (await import('./serve.ts')).serve());
  registerMigrateCommands(program);
  registerUserCommands(program);
  registerClientCommands(program);
  registerSmsCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv.length > 2 ? argv : [...argv, 'serve']);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError || err instanceof CliError || err instanceof GatewayConfigError) {
      process.stderr.write(`keystep: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`keystep: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
