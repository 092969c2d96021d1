import path from 'node:path';
import { parseArgs } from 'node:util';

export type ScenarioKind = 'login' | 'stuffing' | 'resend-storm' | 'pumping';

export interface Scenario {
  kind: ScenarioKind;
  /** Name in the table and the JSON: `login@0ms`, `stuffing`, `resend-storm`. */
  name: string;
  gatewayDelayMs: number;
}

export interface BenchOptions {
  scenarios: Scenario[];
  durationSeconds: number;
  warmupSeconds: number;
  concurrency: number;
  stuffingConcurrency: number;
  stuffingUsernames: number;
  users: number;
  pumpingAccounts: number;
  pumpingGraceSeconds: number;
  ceilingSeconds: number;
  pin: boolean;
  cpuProf: boolean;
  keepData: boolean;
  out: string;
}

export const USAGE = `npm run bench -- [options]

  --scenario <list>          login, stuffing, resend-storm, pumping or all (comma-separated; default all,
                             which is the first three: pumping runs on request)
  --gateway-delay-ms <list>  SMS gateway response delay(s); one login run each (default 0,300)
  --duration <s>             measured seconds per scenario (default 20)
  --warmup <s>               unmeasured seconds before each measurement (default 5)
  --concurrency <n>          simultaneous logins (default 32: enough to keep Keystep busy while
                             logins wait 300 ms for the gateway)
  --stuffing-concurrency <n> simultaneous credential-stuffing attempts (default: --concurrency)
  --stuffing-usernames <n>   usernames the attack cycles through, a sixth of them real (default 60)
  --users <n>                users with phones for the real logins (default 400; at least --concurrency)
  --pumping-accounts <n>     pumping: the attacker's accounts, numbers sequential in one range (default 200);
                             its workers are --stuffing-concurrency, the real users' --concurrency
  --pumping-grace-seconds <s> pumping: sms.pumping.graceSeconds, scaled down to the run (default 5)
  --ceiling-seconds <s>      seconds of argon2id verifications for the ceiling (default 5)
  --no-pin                   do not pin Keystep to one CPU with taskset
  --cpu-prof                 run Keystep under node --cpu-prof and summarise each profile
  --keep-data                keep the temporary data directory (Postgres data, logs, profiles)
  --out <file>               results file (default bench/results/latest.json)`;

function positiveNumber(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min} (got ${value})`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      'gateway-delay-ms': { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      'stuffing-concurrency': { type: 'string' },
      'stuffing-usernames': { type: 'string' },
      users: { type: 'string' },
      'pumping-accounts': { type: 'string' },
      'pumping-grace-seconds': { type: 'string' },
      'ceiling-seconds': { type: 'string' },
      'no-pin': { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
      'keep-data': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const kinds = (values.scenario ?? 'all').split(',').map((s) => s.trim()).filter(Boolean);
  const wanted = new Set<ScenarioKind>();
  for (const k of kinds) {
    if (k === 'all') for (const all of ['login', 'stuffing', 'resend-storm'] as const) wanted.add(all);
    else if (k === 'login' || k === 'stuffing' || k === 'resend-storm' || k === 'pumping') wanted.add(k);
    else throw new Error(`--scenario: unknown scenario ${k} (login, stuffing, resend-storm, pumping, all)`);
  }
  const delays = (values['gateway-delay-ms'] ?? '0,300').split(',').map((d) => positiveNumber('gateway-delay-ms', d.trim(), 0));
  if (delays.length === 0 || delays.some((d) => d > 30_000)) throw new Error('--gateway-delay-ms: give one or more delays of at most 30000 ms');

  const scenarios: Scenario[] = [];
  if (wanted.has('login')) for (const d of delays) scenarios.push({ kind: 'login', name: `login@${d}ms`, gatewayDelayMs: d });
  // The attack scenarios run with the first (fastest, by default) gateway delay.
  if (wanted.has('stuffing')) scenarios.push({ kind: 'stuffing', name: 'stuffing', gatewayDelayMs: delays[0]! });
  if (wanted.has('resend-storm')) scenarios.push({ kind: 'resend-storm', name: 'resend-storm', gatewayDelayMs: delays[0]! });
  if (wanted.has('pumping')) scenarios.push({ kind: 'pumping', name: 'pumping', gatewayDelayMs: delays[0]! });

  const concurrency = Math.floor(positiveNumber('concurrency', values.concurrency, 32, 1));
  const users = Math.floor(positiveNumber('users', values.users, 400, 1));
  if (users < concurrency) throw new Error(`--users (${users}) must be at least --concurrency (${concurrency}): a user logs in once at a time`);
  if (concurrency > 1000) throw new Error('--concurrency: at most 1000');
  if (users > 100_000) throw new Error('--users: at most 100000');
  return {
    scenarios,
    durationSeconds: positiveNumber('duration', values.duration, 20, 0.5),
    warmupSeconds: positiveNumber('warmup', values.warmup, 5, 0),
    concurrency,
    stuffingConcurrency: Math.floor(positiveNumber('stuffing-concurrency', values['stuffing-concurrency'], concurrency, 1)),
    stuffingUsernames: Math.min(100_000, Math.floor(positiveNumber('stuffing-usernames', values['stuffing-usernames'], 60, 2))),
    users,
    pumpingAccounts: Math.min(9_999, Math.floor(positiveNumber('pumping-accounts', values['pumping-accounts'], 200, 1))),
    pumpingGraceSeconds: Math.floor(positiveNumber('pumping-grace-seconds', values['pumping-grace-seconds'], 5, 0)),
    ceilingSeconds: positiveNumber('ceiling-seconds', values['ceiling-seconds'], 5, 0.2),
    pin: !values['no-pin'],
    cpuProf: values['cpu-prof'] === true,
    keepData: values['keep-data'] === true,
    out: path.resolve(values.out ?? 'bench/results/latest.json'),
  };
}
