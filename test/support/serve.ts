import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface RunningServer {
  child: ChildProcess;
  output(): string;
  /** Resolves once the output holds text (both streams are read, in whatever order they arrive). */
  waitFor(text: string): Promise<void>;
  stop(): Promise<number | null>;
}

/** Starts `keystep serve` and resolves once it logs that it listens (or rejects with its output). */
export function startServe(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, [path.resolve('bin/keystep.js'), 'serve'], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      for (const w of waiters.filter((w) => out.includes(w.text))) w.resolve();
      if (out.includes('Keystep is listening')) {
        resolve({
          child,
          output: () => out,
          waitFor: (text) => (out.includes(text) ? Promise.resolve() : new Promise((done) => { waiters.push({ text, resolve: done }); })),
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(Object.assign(new Error(`serve exited with ${code}:\n${out}`), { code, output: out })));
  });
}
