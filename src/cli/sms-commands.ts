import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { smsMessageRepository } from '../repositories/sms-messages.ts';
import { systemClock } from '../shared/clock.ts';
import { checkDestination } from '../sms/destination-policy.ts';
import { resolveGateway } from '../sms/gateway-settings.ts';
import { SmsDeliveryError } from '../sms/port.ts';
import { compileGateway, redactRequest } from '../sms/request-template.ts';
import { wireSmsSender } from '../sms-wiring.ts';
import { CliError, withDatabase, type Cli } from './context.ts';

function testMessage(serviceName: string): string {
  return `This is a test message from ${serviceName}: the SMS gateway works.`;
}

export function registerSmsCommands(program: Command, cli: Cli): void {
  const sms = program.command('sms').description('the SMS gateway');

  sms.command('test <e164>')
    .description('send a test SMS through the configured gateway; --dry-run prints the request instead (secrets redacted)')
    .option('--dry-run', 'print the exact request that would be sent, and send nothing')
    .action(async (number: string, opts: { dryRun?: boolean }) => {
      const config = loadConfig(cli.io.env);
      let to: string;
      try {
        to = checkDestination(number, config.sms.allowedCountries);
      } catch (err) {
        throw new CliError(`${number}: ${(err as Error).message}`);
      }
      const text = testMessage(config.serviceName);
      if (opts.dryRun) {
        if (config.sms.sender !== 'http') throw new CliError('sms.sender is console: there is no gateway request to show (set sms.sender to http)');
        const gateway = compileGateway(resolveGateway(config.sms.gateway));
        const request = redactRequest(gateway.build({ num: to, msg: text, otp: '123456' }), gateway.template.secrets);
        cli.out.log(`${request.method} ${request.url}`);
        for (const [name, value] of Object.entries(request.headers)) cli.out.log(`${name}: ${value}`);
        if (request.body !== undefined) cli.out.log(`\n${request.body}`);
        return;
      }
      await withDatabase(cli, async ({ database, log }) => {
        const repo = smsMessageRepository(database.db);
        const { sender } = wireSmsSender(config, log, systemClock, (r) => repo.record(r));
        try {
          const receipt = await sender.send({ to, text, code: '123456', purpose: 'test' });
          cli.out.log(`sent: status ${receipt.status ?? '-'}, message id ${receipt.messageId ?? '-'}`);
        } catch (err) {
          if (err instanceof SmsDeliveryError) throw new CliError(`not sent: ${err.message}`);
          throw err;
        }
      });
    });
}

