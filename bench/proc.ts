// Linux process facts from /proc, and CPU pinning with taskset.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

let clockTicks: number | undefined;

/** Clock ticks per second of the utime/stime fields (usually 100). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    clockTicks = out.status === 0 && n > 0 ? n : 100;
  }
  return clockTicks;
}

function statFields(pid: number, dir = `/proc/${pid}`): string[] | undefined {
  try {
    const text = readFileSync(`${dir}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it start past the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used itself, or undefined if it is gone. */
export function cpuSeconds(pid: number, dir?: string): number | undefined {
  const f = statFields(pid, dir);
  if (!f) return undefined;
  // After the name: state(3) ppid(4) ... utime(14) stime(15), so index 11 and 12 here.
  return (Number(f[11]) + Number(f[12])) / clkTck();
}

export interface ThreadCpu {
  /** The JavaScript thread: requests, queries, templates. */
  main: number;
  /** libuv's thread pool: argon2id, and WebCrypto jobs such as token signatures. */
  pool: number;
  /** Everything else: V8's helpers (garbage collection, compilation) and Node's own threads. */
  other: number;
}

/** CPU seconds of a process by kind of thread, from /proc/<pid>/task; undefined if it is gone. */
export function threadCpuSeconds(pid: number): ThreadCpu | undefined {
  const out: ThreadCpu = { main: 0, pool: 0, other: 0 };
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  for (const task of tasks) {
    const seconds = cpuSeconds(Number(task), `/proc/${pid}/task/${task}`);
    if (seconds === undefined) continue; // the thread ended meanwhile
    let name = '';
    try { name = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim(); } catch { /* ended */ }
    if (Number(task) === pid) out.main += seconds;
    else if (name === 'libuv-worker') out.pool += seconds;
    else out.other += seconds;
  }
  return out;
}

function parentOf(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[1]) : undefined;
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = Number(entry);
    if (parentOf(child) === pid) out.push(child);
  }
  return out;
}

/** A `/proc/<pid>/status` value in kB (VmHWM is the peak resident set size). */
export function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPUs this process may run on, from Cpus_allowed_list (e.g. "0-1,4"). */
export function allowedCpus(): number[] {
  try {
    const match = /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!match) return [];
    const cpus: number[] = [];
    for (const part of match[1]!.split(',')) {
      const [a, b] = part.split('-').map(Number);
      if (a === undefined || !Number.isInteger(a)) continue;
      const end = b !== undefined && Number.isInteger(b) ? b : a;
      for (let c = a; c <= end && cpus.length < 4096; c++) cpus.push(c);
    }
    return cpus;
  } catch {
    return [];
  }
}

export function tasksetWorks(cpu: number): boolean {
  const r = spawnSync('taskset', ['-c', String(cpu), 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Moves a running process (all its threads) to the given CPUs. */
export function pinRunning(pid: number, cpus: string): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  return r.status === 0;
}

/** The postmaster of the embedded Postgres under a Keystep data directory. */
export function postmasterPid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** CPU seconds of the postmaster and its current children (the backends). */
export function postgresCpuSeconds(dataDir: string): number | undefined {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return undefined;
  let total = cpuSeconds(pid);
  if (total === undefined) return undefined;
  for (const child of childrenOf(pid)) total += cpuSeconds(child) ?? 0;
  return total;
}

export function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
