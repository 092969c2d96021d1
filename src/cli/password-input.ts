import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError, type CliIo } from './context.ts';

async function readFirstLine(io: CliIo): Promise<string> {
  const rl = createInterface({ input: io.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

async function askHidden(io: CliIo, question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) io.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      io.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

/**
 * A new password: the first line of stdin when it is piped, or typed twice at a terminal without echo.
 * Never from the command line, where it would land in shell history and the process list.
 */
export async function readNewPassword(io: CliIo): Promise<string> {
  if (!io.stdin.isTTY) return readFirstLine(io);
  const first = await askHidden(io, 'Password: ');
  const second = await askHidden(io, 'Repeat password: ');
  if (first !== second) throw new CliError('the two passwords differ');
  return first;
}

/** A secret (an upstream client secret): the first line of stdin when piped, or typed once without echo. */
export async function readSecret(io: CliIo, question: string): Promise<string> {
  return (io.stdin.isTTY ? await askHidden(io, question) : await readFirstLine(io)).trim();
}
