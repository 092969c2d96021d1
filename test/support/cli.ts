import { spawn } from 'node:child_process';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/context.ts';
import { run } from '../../src/cli/main.ts';
import type { PasswordHasher } from '../../src/login/passwords.ts';
import { cheapHasher } from './hasher.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written to it; `onWrite` sees every chunk as it arrives. */
export function textSink(onWrite: (text: string) => void = () => {}): Writable & { text(): string } {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      onWrite(String(chunk));
      done();
    },
  });
  return Object.assign(sink, { text: () => text });
}

export interface CliOptions {
  /** Hashes passwords and backup codes: the cheap test hasher unless given; `null` leaves Keystep's own. */
  hasher?: PasswordHasher | null;
  serving?: CliIo['serving'];
  onOutput?: (text: string) => void;
}

/**
 * Runs a `keystep` command line in this process, as the binary would: only the given environment
 * (nothing of the test process's), stdin piped (so never a terminal), its own output streams.
 */
export async function runCli(args: string[], env: Record<string, string>, stdin = '', options: CliOptions = {}): Promise<CliResult> {
  const stdout = textSink(options.onOutput);
  const stderr = textSink(options.onOutput);
  const io: CliIo = {
    env: { NO_COLOR: '1', ...env },
    stdin: Readable.from(stdin ? [stdin] : []),
    stdout,
    stderr,
    ...(options.hasher === null ? {} : { hasher: options.hasher ?? cheapHasher }),
    serving: options.serving ?? (() => { throw new Error('runCli runs commands that end; use serveInProcess for serve'); }),
  };
  const code = await run(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const bin = path.resolve('bin/keystep.js');

/** Runs the real `keystep` binary in a child process (stdin piped): for the one smoke test of the binary. */
export function spawnCli(args: string[], env: Record<string, string>, stdin = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
