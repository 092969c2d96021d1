import type { Command } from 'commander';
import { smsAbuseRepository, type RangeScope, type SourceCount } from '../repositories/sms-abuse.ts';
import { systemClock } from '../shared/clock.ts';
import { maskedPrefix, possibleNumber } from '../shared/phone.ts';
import { CliError, withDatabase, type Cli } from './context.ts';

/** A range as typed: an ISO country code (`GB`), or the start of numbers (`+44740012`, spaces allowed). */
export function parseRange(input: string): { scope: RangeScope; range: string } {
  const text = input.trim();
  if (/^[A-Za-z]{2}$/.test(text)) return { scope: 'country', range: text.toUpperCase() };
  const digits = text.replace(/[\s•.-]/g, '');
  if (/^\+?\d{1,15}$/.test(digits)) return { scope: 'prefix', range: `+${digits.replace('+', '')}` };
  throw new CliError(`${input}: give a country code like GB or the start of numbers like +44740012`);
}

/**
 * The longest start of `range` that a prefix pause can match: a pause is matched against a number's
 * range (the number without its last `hiddenDigits` digits, all Keystep keeps of it), so a prefix
 * longer than the range of every number it begins would cover none.
 */
export function longestPausable(range: string, hiddenDigits: number): string {
  for (let length = range.length; length > 2; length--) {
    const start = range.slice(0, length);
    for (let total = length + hiddenDigits; total <= 16; total++) if (possibleNumber(start.padEnd(total, '0'))) return start;
  }
  return range.slice(0, 2);
}

const ratio = (c: { sent: number | null; entered: number | null }) => (c.sent ? Number(((c.entered ?? 0) / c.sent).toFixed(2)) : null);

export function registerAbuseCommands(program: Command, cli: Cli): void {
  const abuse = program.command('abuse').description('the defences against SMS pumping: budgets used, paused number ranges and countries');

  abuse.command('status')
    .description('SMS sent against the shared budgets, paused ranges with their ratios of codes entered to sent, and the top sources')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(cli, async ({ config, database }) => {
        const { sms } = config;
        const hidden = sms.budgets.prefixHiddenDigits;
        const status = await smsAbuseRepository(database.db).status(systemClock.now(), sms.pumping.windowSeconds, 5, sms.velocityWindowSeconds);
        // Only ranges and masked prefixes leave the database: never a whole number.
        const masked = (c: SourceCount) => ({ ...c, key: maskedPrefix(c.key, hidden) });
        const pauses = status.pauses.map((p) => ({
          scope: p.scope, range: p.scope === 'prefix' ? maskedPrefix(p.range, hidden) : p.range, reason: p.reason,
          since: p.changedAt.toISOString(), sent: p.sent, entered: p.entered, ratio: ratio(p),
        }));
        const report = {
          budgets: {
            hour: { sent: status.sentInGlobalWindow, limit: sms.globalSendLimit, windowSeconds: sms.velocityWindowSeconds },
            day: { sent: status.sentLastDay, limit: sms.budgets.perDay },
          },
          pumping: { enabled: sms.pumping.enabled, threshold: sms.pumping.threshold, windowSeconds: sms.pumping.windowSeconds },
          paused: pauses,
          top: {
            countries: status.countries.map((c) => ({ ...c, ratio: ratio(c) })),
            prefixes: status.prefixes.map((c) => ({ ...masked(c), ratio: ratio(c) })),
            accounts: status.accounts.map((c) => ({ ...c, ratio: ratio(c) })),
            addresses: status.addresses.map((c) => ({ ...c, ratio: ratio(c) })),
          },
        };
        if (opts.json) {
          cli.out.log(JSON.stringify(report, null, 2));
          return;
        }
        cli.out.log(`SMS sent in the last ${sms.velocityWindowSeconds} s: ${status.sentInGlobalWindow} (globalSendLimit ${sms.globalSendLimit} per ${sms.velocityWindowSeconds} s)`);
        cli.out.log(`SMS sent in the last day: ${status.sentLastDay} (budgets.perDay ${sms.budgets.perDay})`);
        cli.out.log(`Pumping breaker: ${sms.pumping.enabled ? `pauses a range below ${sms.pumping.threshold} codes entered per code sent` : 'off'}`);
        if (pauses.length === 0) cli.out.log('\nNo range is paused.');
        else {
          cli.out.log('\nPaused (`keystep abuse resume <range>` lifts a pause):');
          cli.out.table(pauses);
        }
        const minutes = Math.round(sms.pumping.windowSeconds / 60);
        for (const [title, rows] of Object.entries(report.top)) {
          if (rows.length === 0) continue;
          cli.out.log(`\nTop ${title} in the last ${minutes} minutes:`);
          cli.out.table(rows);
        }
      });
    });

  abuse.command('pause <range>')
    .description('stop sending SMS to a country (GB) or to numbers starting with a prefix (+44740012)')
    .action(async (input: string) => {
      const { scope, range } = parseRange(input);
      await withDatabase(cli, async ({ config, database }) => {
        const hidden = config.sms.budgets.prefixHiddenDigits;
        const longest = scope === 'prefix' ? longestPausable(range, hidden) : range;
        if (longest !== range) {
          throw new CliError(`${range}: a pause covers whole ranges (a number without its last ${hidden} digits), and no number's range is as long as this; give at most ${longest}`);
        }
        const changed = await smsAbuseRepository(database.db).pause(scope, range, systemClock.now());
        cli.out.log(changed ? `paused ${scope} ${range}` : `${scope} ${range} was already paused (now marked as paused by hand)`);
      });
    });

  abuse.command('resume <range>')
    .description('lift the pause of a country or prefix; the pumping breaker then judges it only by what is sent from now on')
    .action(async (input: string) => {
      const { scope, range } = parseRange(input);
      await withDatabase(cli, async ({ database }) => {
        const changed = await smsAbuseRepository(database.db).resume(scope, range, systemClock.now());
        if (!changed) throw new CliError(`${scope} ${range} is not paused (\`keystep abuse status\` lists the pauses)`);
        cli.out.log(`resumed ${scope} ${range}`);
      });
    });
}
