import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/results.ts';

const TIMEOUT_MS = 110_000;

/** Runs the benchmark's entry point as `npm run bench` would, in its own process. */
function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('bench/run.ts'), ...args], {
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    // SIGTERM lets the benchmark stop the Keystep it started (and its Postgres).
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS - 10_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

describe('the benchmark (a tiny run of each scenario)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keystep-bench-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs in without errors, lets real users in during stuffing and keeps the resend storm within the SMS budgets', async () => {
    const out = path.join(dir, 'results.json');
    const run = await runBench([
      '--duration', '2', '--warmup', '0', '--concurrency', '2', '--users', '4', '--ceiling-seconds', '0.5',
      '--gateway-delay-ms', '0', '--stuffing-usernames', '4', '--out', out,
    ]);
    expect(run.code, run.output).toBe(0);
    const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;

    expect(r.scenarios.map((s) => s.name)).toEqual(['login@0ms', 'stuffing', 'resend-storm']);
    expect(r.errors).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.ceilingPerSecond).toBeGreaterThan(0);
    // Measured before each scenario and after the last; each scenario is compared with the two around it.
    expect(r.ceilings).toHaveLength(4);
    expect(r.scenarios[0]!.ceilingPerSecond).toBeCloseTo((r.ceilings[0]! + r.ceilings[1]!) / 2, 6);
    expect(r.ceilingPerSecond).toBe(r.scenarios[0]!.ceilingPerSecond);
    expect(r.loginsPerSecond).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(r.loginsPerSecond / r.ceilingPerSecond, 6);
    expect(r.p95Ms).toBeGreaterThan(0);
    expect(run.output).toMatch(/full logins\/s/);

    const [login, stuffing, storm] = r.scenarios;
    expect(login!.latencyMs.otp.count).toBe(login!.logins);
    expect(login!.keystepCpuSecondsPerLogin).toBeGreaterThan(0);
    // Hashing runs on the thread pool, the requests on the main thread; both show.
    expect(login!.keystepCpuMsPerLoginByThread!.main).toBeGreaterThan(0);
    expect(login!.keystepCpuMsPerLoginByThread!.pool).toBeGreaterThan(0);
    expect(login!.peakRssMiB).toBeGreaterThan(0);
    expect(login!.pgRowsWrittenPerLogin).toBeGreaterThan(0);
    expect(login!.keystepExitCode).toBe(0);

    // Real users still complete logins while the attack runs; with 4 usernames the throttle bites.
    const s = stuffing!.stuffing!;
    expect(s.realUserLogins).toBeGreaterThan(0);
    expect(s.attempts).toBeGreaterThan(0);
    expect(s.refusedBeforeHash + s.hashed + s.other).toBe(s.attempts);
    expect(s.refusedBeforeHash).toBeGreaterThan(0);
    expect(stuffing!.errors).toBe(0);

    const b = storm!.resendStorm!;
    expect(b.presses).toBeGreaterThan(0);
    expect(b.withinBudgets).toBe(true);
    expect(b.gatewayPerAccountMax).toBeLessThanOrEqual(b.budgets.userSendLimit);
    expect(Math.max(b.maxSmsPerLogin, b.dbSentPerLoginMax)).toBeLessThanOrEqual(1 + b.budgets.maxResends);
    expect(b.gatewayTotal).toBe(b.dbSentTotal);
    expect(storm!.errors).toBe(0);
  }, TIMEOUT_MS);

  it('stops an SMS pumping attack on one range by its budget and the breaker while real users sign in', async () => {
    const out = path.join(dir, 'pumping.json');
    const run = await runBench([
      '--scenario', 'pumping', '--duration', '6', '--warmup', '0', '--concurrency', '2', '--stuffing-concurrency', '2', '--users', '8',
      '--pumping-accounts', '20', '--pumping-grace-seconds', '0', '--ceiling-seconds', '0.5', '--gateway-delay-ms', '0', '--out', out,
    ]);
    expect(run.code, run.output).toBe(0);
    const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(r.scenarios.map((s) => s.name)).toEqual(['pumping']);
    expect(r.ok).toBe(true);
    const p = r.scenarios[0]!.pumping!;
    expect(r.scenarios[0]!.errors).toBe(0);
    expect(p.realLogins).toBeGreaterThan(0);
    expect(p.realRefused).toEqual({});
    expect(p.realSmsReceived).toBe(p.realLogins);
    // No code entered, ten judged at once: the breaker pauses the range at its minimum volume.
    expect(p.pause).toMatchObject({ scope: 'prefix', range: '+44740050••••', sent: 10, entered: 0 });
    expect(p.attackSmsReceived).toBe(p.attackSmsBeforePause);
    expect(p.attackSmsAfterPause).toBe(0);
    expect(p.refusedByBudget.prefix_paused).toBeGreaterThan(0);
    expect(run.output).toMatch(/paused: prefix \+44740050•••• /);
  }, TIMEOUT_MS);
});
