import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
  form: URLSearchParams;
  json: unknown;
}

export interface Reply {
  status: number;
  /** A string goes out as it is (garbage, NUL bytes); anything else as JSON. */
  body?: unknown;
  delayMs?: number;
  /** Instead of `body`: this many bytes of filler, written as fast as the client reads them. */
  bodyBytes?: number;
}

/** How far the gateway got with its last streamed body (`bodyBytes`). */
export interface Streamed {
  written: number;
  finished: boolean;
}

/**
 * A real HTTP server on loopback that behaves like an SMS provider. By default it acts as Twilio:
 * it checks basic auth, parses the form and answers 201 with a `sid`. `reply` overrides per request.
 */
export class FakeGateway {
  readonly received: ReceivedRequest[] = [];
  reply: ((req: ReceivedRequest) => Reply) | undefined;
  basicAuth: { username: string; password: string } | undefined;
  streamed: Streamed | undefined;
  #server: Server;
  #port = 0;
  #sockets = new Set<import('node:net').Socket>();

  private constructor() {
    this.#server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => { body += d; });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        let json: unknown;
        try { json = JSON.parse(body); } catch { json = undefined; }
        const received: ReceivedRequest = { method: req.method ?? '', url, headers: req.headers, body, form: new URLSearchParams(body), json };
        this.received.push(received);
        const reply = this.reply?.(received) ?? this.twilio(received);
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          if (reply.bodyBytes !== undefined) return this.stream(res, reply.bodyBytes);
          res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {}));
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
        else send();
      });
    });
    this.#server.on('connection', (s) => { this.#sockets.add(s); s.on('close', () => this.#sockets.delete(s)); });
  }

  static async start(): Promise<FakeGateway> {
    const gateway = new FakeGateway();
    await gateway.up();
    return gateway;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Stops listening: connections to the gateway are refused (an outage) until `up`. */
  async down(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Listens (again) on the same port. */
  async up(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(this.#port, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  private stream(res: import('node:http').ServerResponse, total: number): void {
    const streamed: Streamed = { written: 0, finished: false };
    this.streamed = streamed;
    const chunk = Buffer.alloc(64 * 1024, '{"sid":"SM'.repeat(7000));
    const write = () => {
      while (streamed.written < total && !res.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - streamed.written));
        streamed.written += part.length;
        if (!res.write(part)) return void res.once('drain', write);
      }
      if (res.destroyed) return;
      streamed.finished = true;
      res.end();
    };
    write();
  }

  private twilio(req: ReceivedRequest): Reply {
    if (this.basicAuth) {
      const expected = `Basic ${Buffer.from(`${this.basicAuth.username}:${this.basicAuth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return { status: 401, body: { code: 20003, message: 'Authenticate' } };
    }
    if (!req.form.get('To') || !req.form.get('Body')) return { status: 400, body: { code: 21604, message: "A 'To' phone number is required." } };
    return { status: 201, body: { sid: `SM${String(this.received.length).padStart(32, '0')}`, status: 'queued', to: req.form.get('To') } };
  }

  /** The messages sent to one number, as the gateway received them. */
  to(number: string): string[] {
    return this.received.filter((r) => r.form.get('To') === number).map((r) => r.form.get('Body') ?? '');
  }

  /** The code in the newest message (to `number`, if given), read from its origin-bound last line. */
  lastCode(number?: string): string {
    const text = (number ? this.to(number).at(-1) : this.received.at(-1)?.form.get('Body')) ?? '';
    const match = /#(\w+)\s*$/.exec(text);
    if (!match) throw new Error('no code received');
    return match[1]!;
  }

  async stop(): Promise<void> {
    if (this.#server.listening) await this.down();
  }
}

/**
 * An address on loopback where a connection is never made, as with a provider whose host is down or
 * behind a firewall that drops packets: a listener in another process that never accepts, with its
 * accept queue filled (a backlog of 1 holds 2 on Linux), so the kernel drops every further SYN.
 */
export async function blackHole(): Promise<{ origin: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', `
    const server = require('node:net').createServer();
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
    });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout, 'data') as [Buffer];
  const port = Number(String(line).trim());
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = connect(port, '127.0.0.1');
    fillers.push(socket);
    await once(socket, 'connect');
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    async stop() {
      for (const socket of fillers) socket.destroy();
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
