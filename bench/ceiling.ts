// The password-hash ceiling: argon2id verifications per second on one core, with Keystep's own
// parameters and hasher, one at a time. Run with UV_THREADPOOL_SIZE=1 (and pinned with taskset when
// possible) by bench/run.ts; prints one JSON line.
import { argon2Options, createArgon2Hasher } from '../src/login/passwords.ts';

export interface CeilingResult {
  perSecond: number;
  verifications: number;
  seconds: number;
  /** CPU seconds used per wall second: about 1 when the hash has one core to itself. */
  cpuPerWallSecond: number;
  params: typeof argon2Options;
  threadpool: string;
}

export async function measureCeiling(seconds: number): Promise<CeilingResult> {
  const hasher = createArgon2Hasher();
  const password = 'bench-ceiling-password-9';
  const hash = await hasher.hash(password);
  for (let i = 0; i < 3; i++) if (!(await hasher.verify(hash, password))) throw new Error('argon2 verify failed');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  const limit = Math.max(1, Math.ceil(seconds * 10_000));
  while (n < limit && performance.now() - t0 < seconds * 1000) {
    if (!(await hasher.verify(hash, password))) throw new Error('argon2 verify failed');
    n++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond: n / elapsed,
    verifications: n,
    seconds: elapsed,
    cpuPerWallSecond: (cpu.user + cpu.system) / 1e6 / elapsed,
    params: argon2Options,
    threadpool: process.env.UV_THREADPOOL_SIZE ?? 'default',
  };
}

if (import.meta.main) {
  const seconds = Number(process.argv[2] ?? '5');
  console.log(JSON.stringify(await measureCeiling(Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 600) : 5)));
}
