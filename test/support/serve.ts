import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { runCli } from './cli.ts';

export interface ServingKeystep {
  output(): string;
  /** Resolves once the output holds text (both streams are read, in whatever order they arrive). */
  waitFor(text: string): Promise<void>;
  /** Stops it as SIGTERM does, and answers the exit status. */
  stop(): Promise<number | null>;
}

export interface RunningServer extends ServingKeystep {
  child: ChildProcess;
}

/** Collects output and resolves the waits on it. */
function outputWatch() {
  let out = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  return {
    add(text: string) {
      out += text;
      for (const w of waiters.filter((w) => out.includes(w.text))) w.resolve();
    },
    output: () => out,
    waitFor: (text: string) => (out.includes(text) ? Promise.resolve() : new Promise<void>((done) => { waiters.push({ text, resolve: done }); })),
  };
}

/** Starts the real `keystep serve` process and resolves once it logs that it listens (or rejects with its output). */
export function startServe(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, [path.resolve('bin/keystep.js'), 'serve'], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watch = outputWatch();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      watch.add(d.toString());
      if (watch.output().includes('Keystep is listening')) {
        resolve({
          child,
          output: watch.output,
          waitFor: watch.waitFor,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(Object.assign(new Error(`serve exited with ${code}:\n${watch.output()}`), { code, output: watch.output() })));
  });
}

/** `keystep serve` run in this process; resolves once it listens, rejects with its status and output if it does not. */
export async function serveInProcess(env: Record<string, string>): Promise<ServingKeystep> {
  const watch = outputWatch();
  let stop: ((signal?: string) => Promise<void>) | undefined;
  const result = await runCli(['serve'], env, '', { onOutput: watch.add, serving: (s) => { stop = s; } });
  if (result.code !== 0 || !stop) {
    throw Object.assign(new Error(`serve exited with ${result.code}:\n${watch.output()}`), { code: result.code, output: watch.output() });
  }
  const stopServing = stop;
  return {
    output: watch.output,
    waitFor: watch.waitFor,
    stop: async () => {
      await stopServing('SIGTERM');
      return 0;
    },
  };
}
