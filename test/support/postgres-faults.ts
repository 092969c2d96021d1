import { readFileSync } from 'node:fs';
import path from 'node:path';
import { childrenOf, postmasterPid } from '../../bench/proc.ts';

/** Polls until `ready` holds, for at most `timeoutMs`: real processes take their own time. */
export async function waitUntil(ready: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function alive(pid: number): boolean {
  try {
    // A killed process that nobody has reaped yet is a zombie ('Z'): gone for our purposes.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The embedded Postgres of a Keystep data directory, as its processes: the postmaster (from
 * `postmaster.pid`) and its children, the backends that hold the open connections. Stopping only
 * the postmaster would leave those connections answering.
 */
export function postgresOf(dataDir: string) {
  const processes = () => {
    const pid = postmasterPid(dataDir);
    return pid === undefined ? [] : [pid, ...childrenOf(pid)];
  };
  const signal = (sig: NodeJS.Signals) => {
    const pids = processes();
    if (pids.length === 0) throw new Error(`no Postgres runs on ${path.join(dataDir, 'postgres')}`);
    for (const pid of pids) process.kill(pid, sig);
    return pids;
  };
  return {
    hang: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    /** SIGKILL to every process, then waits until none is left (so a new server can take the data directory). */
    async kill() {
      const pids = signal('SIGKILL');
      await waitUntil(() => pids.every((pid) => !alive(pid)), 10_000, 'the killed Postgres processes are gone');
    },
  };
}
