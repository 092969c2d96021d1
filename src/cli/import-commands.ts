import { closeSync, existsSync, fchmodSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, type Cli } from './context.ts';
import { importWso2 } from './wso2/import.ts';
import { Wso2InputError } from './wso2/read-config.ts';

function readText(file: string, what: string): string {
  try {
    const bytes = readFileSync(file);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.includes('\u0000')) throw new CliError(`${file}: the ${what} holds NUL bytes; it is not a text file`);
    return text;
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof TypeError) throw new CliError(`${file}: the ${what} is not UTF-8 text`);
    throw new CliError(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function registerImportCommands(program: Command, cli: Cli): void {
  const importing = program.command('import').description('carry a configuration over from another system');

  importing.command('wso2 <file>')
    .description('read a WSO2 SMSOTP configuration (application-authentication.xml or deployment.toml) and write Keystep\'s, with a report')
    .option('--sms-provider <file>', 'the SMS provider as the WSO2 console had it: a YAML file of url, method, headers, payload (see the README)')
    .option('--out <file>', 'write the configuration there (without it: to standard output, and the report to standard error)')
    .option('--force', 'overwrite the --out file if it exists')
    .action((file: string, opts: { smsProvider?: string; out?: string; force?: boolean }) => {
      let result;
      try {
        result = importWso2({
          config: { file, text: readText(file, 'WSO2 configuration') },
          ...(opts.smsProvider ? { provider: { file: opts.smsProvider, text: readText(opts.smsProvider, 'SMS provider file') } } : {}),
        });
      } catch (err) {
        if (err instanceof Wso2InputError) throw new CliError(`cannot import: ${err.message}`);
        throw err;
      }
      if (!result.ok) throw new CliError(`cannot import:\n${result.problems.map((p) => `  - ${p}`).join('\n')}`);
      if (!opts.out) {
        cli.io.stdout.write(result.yaml);
        cli.io.stderr.write(result.report);
        return;
      }
      if (existsSync(opts.out) && !opts.force) throw new CliError(`${opts.out} exists; choose another --out, or add --force to overwrite it`);
      try {
        // Private: it may hold the SMS provider's credentials. A file overwritten keeps its mode
        // otherwise, so it is made private before anything is written to it.
        const fd = openSync(opts.out, opts.force ? 'w' : 'wx', 0o600);
        try {
          fchmodSync(fd, 0o600);
          writeSync(fd, result.yaml);
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        throw new CliError(`cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      cli.io.stdout.write(result.report);
      cli.io.stdout.write(`\nWrote ${opts.out}. Start Keystep with KEYSTEP_CONFIG=${opts.out}.\n`);
    });
}
