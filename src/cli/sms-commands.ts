import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { smsDeliveryRepository } from '../repositories/sms-deliveries.ts';
import { smsMessageRepository } from '../repositories/sms-messages.ts';
import { addSeconds, systemClock } from '../shared/clock.ts';
import { checkDestination } from '../sms/destination-policy.ts';
import { receiptPath } from '../sms/gateway-list.ts';
import { resolveGateway } from '../sms/gateway-settings.ts';
import { SmsDeliveryError } from '../sms/port.ts';
import { compileGateway, redactRequest } from '../sms/request-template.ts';
import { configuredGateways, wireSmsSender } from '../sms-wiring.ts';
import type { Config } from '../config/schema.ts';
import { CliError, NotFoundError, withDatabase, type Cli } from './context.ts';

function testMessage(serviceName: string): string {
  return `This is a test message from ${serviceName}: the SMS gateway works.`;
}

/** The configuration with only the gateway `name` (to test one provider of the list). */
function onlyGateway(config: Config, name: string): Config {
  const gateway = configuredGateways(config).find((g) => g.name === name);
  if (!gateway) throw new NotFoundError(`no gateway named ${name} (the names: ${configuredGateways(config).map((g) => g.name).join(', ')})`);
  return config.sms.gateways.length ? { ...config, sms: { ...config.sms, gateways: [gateway] } } : config;
}

/** Where a gateway's receipts go, without the secret (which may travel in the path). */
function receiptsLine(config: Config, gateway: ReturnType<typeof configuredGateways>[number]): string {
  const receipts = gateway.receipts;
  if (!receipts) return 'no receipts';
  const url = `${config.issuer}${receiptPath(gateway.name)}`;
  if (receipts.format === 'twilio') return `receipts: POST ${url} (Twilio, signed)`;
  return receipts.secretHeader ? `receipts: POST ${url} (secret in ${receipts.secretHeader})` : `receipts: POST ${url}/<secret>`;
}

export function registerSmsCommands(program: Command, cli: Cli): void {
  const sms = program.command('sms').description('the SMS gateway');

  sms.command('test <e164>')
    .description('send a test SMS through the configured gateway; --dry-run prints the request instead (secrets redacted)')
    .option('--dry-run', 'print the exact request that would be sent, and send nothing')
    .option('--gateway <name>', 'send through this gateway of sms.gateways only')
    .action(async (number: string, opts: { dryRun?: boolean; gateway?: string }) => {
      const loaded = loadConfig(cli.io.env);
      const config = opts.gateway ? onlyGateway(loaded, opts.gateway) : loaded;
      let to: string;
      try {
        to = checkDestination(number, config.sms.allowedCountries);
      } catch (err) {
        throw new CliError(`${number}: ${(err as Error).message}`);
      }
      const text = testMessage(config.serviceName);
      if (opts.dryRun) {
        if (config.sms.sender !== 'http') throw new CliError('sms.sender is console: there is no gateway request to show (set sms.sender to http)');
        const gateway = compileGateway(resolveGateway(configuredGateways(config)[0]!));
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
          cli.out.log(`sent through ${receipt.gateway ?? config.sms.sender}: status ${receipt.status ?? '-'}, message id ${receipt.messageId ?? '-'}`);
        } catch (err) {
          if (err instanceof SmsDeliveryError) throw new CliError(`not sent${err.gateway ? ` (${err.gateway})` : ''}: ${err.message}`);
          throw err;
        }
      });
    });

  sms.command('gateways')
    .description('list the gateways in the order they are tried, where their receipts go, and their sends of the last 24 hours')
    .action(async () => {
      const config = loadConfig(cli.io.env);
      if (config.sms.sender !== 'http') {
        cli.out.log(`sms.sender is ${config.sms.sender}: no gateway is used`);
        return;
      }
      const gateways = configuredGateways(config);
      await withDatabase(cli, async ({ database }) => {
        const tallies = await smsDeliveryRepository(database.db).recentByGateway(addSeconds(systemClock.now(), -86_400));
        for (const [i, gateway] of gateways.entries()) {
          let host: string;
          try {
            host = new URL(resolveGateway(gateway).url.replace(/\$ctx\.\w+/g, 'x')).host;
          } catch {
            host = '(no valid URL: see `keystep sms test --dry-run`)';
          }
          cli.out.log(`${i + 1}. ${gateway.name}: ${host}, ${gateway.countries.length ? `countries ${gateway.countries.join(', ')}` : 'every country'}${gateway.notSentStatus.length ? `, next one tried after ${gateway.notSentStatus.join(', ')}` : ''}`);
          cli.out.log(`   ${receiptsLine(config, gateway)}`);
          const mine = tallies.filter((t) => t.gateway === gateway.name);
          cli.out.log(`   last 24 hours: ${mine.length ? mine.map((t) => `${t.count} ${t.status}${t.delivery ? `/${t.delivery}` : ''}`).join(', ') : 'nothing sent'}`);
        }
        cli.out.log('Circuit breakers are per instance: see /readyz (checks.smsGateway.gateways) on each.');
      });
    });
}
