import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { postmasterPid } from './proc.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'keystep.js');

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with 'timeout' after ms, without keeping the process alive. */
function timeout(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
}

/** `command args...`, prefixed with `taskset -c <cpus>` when cpus is given. */
export function pinnedCommand(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}

export interface KeystepProcess {
  pid: number;
  issuer: string;
  env: Record<string, string>;
  logFile: string;
  exited: Promise<number | null>;
  /** SIGTERM, then waits for it to stop (it stops its embedded Postgres itself). */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  dataDir: string;
  port: number;
  postgresPort: number;
  /** Settings for this run (environment variables). */
  settings: Record<string, string>;
  /** Run pinned to these CPUs (taskset list), or unpinned. */
  cpus?: string;
  /** Directory for `node --cpu-prof`, or none. */
  cpuProfDir?: string;
  logFile: string;
}

export function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

/** Starts `node bin/keystep.js serve` in its own process and waits until /readyz answers 200. */
export async function startKeystep(options: StartOptions): Promise<KeystepProcess> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NO_COLOR: '1',
    KEYSTEP_HOST: '127.0.0.1',
    PORT: String(options.port),
    KEYSTEP_ISSUER: issuer,
    KEYSTEP_DEMO: 'false',
    KEYSTEP_DATA_DIR: options.dataDir,
    KEYSTEP_EMBEDDED_POSTGRES_PORT: String(options.postgresPort),
    ...options.settings,
  };
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  const [command, args] = pinnedCommand(options.cpus, process.execPath, [...nodeArgs, BIN, 'serve']);
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    // taskset execs node, so the pid is Keystep's own.
    child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => { exitCode = code ?? (signal ? -1 : null); resolve(exitCode); });
    child.once('error', () => { exitCode = -1; resolve(-1); });
  });

  const stop = async (): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGTERM');
    const code = await Promise.race([exited, timeout(60_000)]);
    if (code !== 'timeout') return code;
    // It did not stop: kill it, then stop the Postgres it had started (a fast shutdown).
    child.kill('SIGKILL');
    const pgPid = postmasterPid(options.dataDir);
    if (pgPid !== undefined) {
      try { process.kill(pgPid, 'SIGINT'); } catch { /* already gone */ }
    }
    return exited;
  };

  const deadline = Date.now() + 180_000;
  for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
    if (exitCode !== undefined) throw new Error(`keystep serve exited with ${exitCode} before it was ready:\n${tail(options.logFile)}`);
    try {
      const res = await fetch(`${issuer}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return { pid: child.pid!, issuer, env, logFile: options.logFile, exited, stop };
    } catch {
      // Not listening yet.
    }
    await sleep(150);
  }
  await stop();
  throw new Error(`keystep serve was not ready within 180 s:\n${tail(options.logFile)}`);
}
