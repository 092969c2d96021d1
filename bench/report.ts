import { STEPS } from './protocol.ts';
import type { BenchResults, ScenarioResult } from './results.ts';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const fixed = (n: number | null | undefined, digits = 1) => (n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits));

export function printReport(r: BenchResults): void {
  const s = r.scenarios;
  const p = r.ceiling.params;
  console.log('');
  console.log(`Keystep benchmark, ${r.date}`);
  console.log(`${r.machine.nproc} CPUs (${r.machine.cpuModel}), Node ${r.machine.node}; ${r.pinning.note}`);
  console.log(`ceiling: argon2id verifications/s on one core (m=${p.memoryCost} KiB, t=${p.timeCost}, p=${p.parallelism}; UV_THREADPOOL_SIZE=1, sequential), measured before each scenario and after the last: ${r.ceilings.map((c) => fixed(c)).join(', ')}`);
  console.log('');
  const header = ['', ...s.map((x) => x.name)];
  const row = (label: string, f: (x: ScenarioResult) => string) => [label, ...s.map(f)];
  const rows: string[][] = [
    row('full logins/s', (x) => fixed(x.loginsPerSecond)),
    row('argon2id ceiling/s (mean around it)', (x) => fixed(x.ceilingPerSecond)),
    row('ratio to the ceiling', (x) => fixed(x.ratio, 2)),
    row('errors', (x) => String(x.errors)),
    ...STEPS.map((step) => row(`${step} p50/p95/p99 ms`, (x) => x.latencyMs[step].count
      ? `${fixed(x.latencyMs[step].p50, 0)}/${fixed(x.latencyMs[step].p95, 0)}/${fixed(x.latencyMs[step].p99, 0)}` : 'n/a')),
    row('Keystep CPU s/login', (x) => fixed(x.keystepCpuSecondsPerLogin, 4)),
    row('  main thread ms/login', (x) => fixed(x.keystepCpuMsPerLoginByThread?.main, 1)),
    row('  thread pool ms/login', (x) => fixed(x.keystepCpuMsPerLoginByThread?.pool, 1)),
    row('  other threads ms/login', (x) => fixed(x.keystepCpuMsPerLoginByThread?.other, 1)),
    row('Keystep CPU use (cores)', (x) => fixed(x.keystepCpuUtilisation, 2)),
    row('Postgres CPU s/login', (x) => fixed(x.postgresCpuSecondsPerLogin, 4)),
    row('Keystep peak RSS MiB', (x) => fixed(x.peakRssMiB, 0)),
    row('PG rows written/login', (x) => fixed(x.pgRowsWrittenPerLogin, 1)),
    row('PG commits/login', (x) => fixed(x.pgCommitsPerLogin, 1)),
    row('load generator CPU (cores)', (x) => fixed(x.loadGeneratorCpuUtilisation, 2)),
  ];
  console.log(table(header, rows));
  console.log('(latency is per step of the measured logins; the code read from the gateway is not in "otp"; in resend-storm only whole logins are timed)');

  for (const x of s) {
    if (x.stuffing) {
      const st = x.stuffing;
      console.log(`\nstuffing: ${st.attempts} attempts (${fixed(st.attemptsPerSecond)}/s) with unknown usernames and wrong passwords, while ${st.realUserLogins} real logins completed (${fixed(x.loginsPerSecond)}/s)`);
      console.log(`  refused before hashing ("Wait"/"locked"): ${st.refusedBeforeHash}; hashed: ${st.hashed}; other: ${st.other}`);
      console.log(`  auth_events in the window by reason: ${Object.entries(st.eventsByReason).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
      console.log(`  usernames locked at the end: ${st.usernamesLocked}; attempt latency p50/p95 ${fixed(st.latencyMs.p50, 0)}/${fixed(st.latencyMs.p95, 0)} ms`);
    }
    if (x.pumping) {
      const pu = x.pumping;
      const count = (o: Partial<Record<string, number>>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
      console.log(`\npumping: ${pu.attackLogins.oneAddress + pu.attackLogins.manyAddresses} attack logins on ${pu.range} (${pu.attackLogins.oneAddress} from one address, ${pu.attackLogins.manyAddresses} from as many addresses), no code entered`);
      console.log(`  SMS to the attacker's numbers: ${pu.attackSmsReceived} (perPrefix ${pu.settings.perPrefix}, ipSendLimit ${pu.settings.ipSendLimit}, per login 1 + maxResends ${1 + pu.settings.maxResends!}, cooldown ${pu.settings.resendCooldownSeconds} s)`);
      console.log(`  refused, by budget: ${count(pu.refusedByBudget)}`);
      console.log(`  the attack's answers: ${count(pu.attackAnswers)}`);
      console.log(pu.pause
        ? `  paused: ${pu.pause.scope} ${pu.pause.range} ${pu.pause.afterSeconds} s after its first SMS (${pu.pause.entered} of ${pu.pause.sent} codes entered; threshold ${pu.settings.threshold}, grace ${pu.settings.graceSeconds} s); attack SMS before the pause ${pu.attackSmsBeforePause}, after ${pu.attackSmsAfterPause}`
        : '  no range was paused');
      console.log(`  real users meanwhile: ${pu.realLogins} logins, ${pu.realSmsReceived} SMS; refused a code: ${count(pu.realRefused)}`);
    }
    if (x.resendStorm) {
      const st = x.resendStorm;
      console.log(`\nresend-storm: ${st.sessions} sessions on ${st.accounts} accounts pressed "Send a new code" ${st.presses} times (no cooldown)`);
      console.log(`  SMS received by the gateway: ${st.gatewayTotal} (logged as sent: ${st.dbSentTotal}); budget: at most ${st.budgets.userSendLimit} per account = ${st.budgets.userSendLimit * st.accounts}`);
      console.log(`  most SMS to one account: ${st.gatewayPerAccountMax} (userSendLimit ${st.budgets.userSendLimit}); most in one login: ${Math.max(st.maxSmsPerLogin, st.dbSentPerLoginMax)} (1 + maxResends = ${1 + st.budgets.maxResends})`);
      console.log(`  answers to resend: ${Object.entries(st.answers).map(([k, v]) => `${k} ${v}`).join(', ')}; first code page: ${Object.entries(st.firstPageAnswers).map(([k, v]) => `${k === 'none' ? 'sent' : k} ${v}`).join(', ')}`);
      console.log(`  logins finished with the newest code: ${st.completed}; abandoned (no code): ${st.abandoned}; within budgets: ${st.withinBudgets ? 'yes' : 'NO'}`);
    }
  }
  const failed = r.checks.filter((c) => !c.ok);
  console.log(failed.length === 0 ? `\nall ${r.checks.length} checks passed` : `\nFAILED checks:\n${failed.map((c) => `  ${c.name}: ${c.detail}`).join('\n')}`);
}
