import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const GATEWAY_ACCOUNT_SID = 'ACbench0123456789';
export const GATEWAY_AUTH_TOKEN = 'bench-gateway-auth-token';
export const GATEWAY_FROM = '+15005550006';

export interface Inbox {
  /** Messages received for this number since the gateway started. */
  count: number;
  /** The code of the newest message (the SMS text ends with `#<code>`). */
  code: string;
}

const MAX_BODY = 64 * 1024;

/**
 * A Twilio-style SMS provider on loopback for the benchmark: it checks basic auth, parses the form,
 * keeps the newest code per number and answers 201 with a `sid` after `delayMs`. The load generator
 * (another process) reads codes from `GET /bench/sms?to=<e164>`.
 */
export class FakeSmsGateway {
  delayMs = 0;
  readonly inboxes = new Map<string, Inbox>();
  received = 0;
  refused = 0;
  #server: Server;
  #sockets = new Set<Socket>();
  #timers = new Set<NodeJS.Timeout>();

  private constructor() {
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
    this.#server.on('connection', (s) => { this.#sockets.add(s); s.on('close', () => this.#sockets.delete(s)); });
  }

  static async start(): Promise<FakeSmsGateway> {
    const gateway = new FakeSmsGateway();
    await new Promise<void>((resolve, reject) => {
      gateway.#server.once('error', reject);
      gateway.#server.listen(0, '127.0.0.1', resolve);
    });
    return gateway;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get messagesUrl(): string {
    return `${this.origin}/2010-04-01/Accounts/${GATEWAY_ACCOUNT_SID}/Messages.json`;
  }

  count(to: string): number {
    return this.inboxes.get(to)?.count ?? 0;
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/bench/sms') {
      const inbox = this.inboxes.get(url.searchParams.get('to') ?? '');
      return this.#json(res, 200, inbox ?? { count: 0, code: '' });
    }
    if (req.method === 'GET' && url.pathname === '/bench/counts') {
      return this.#json(res, 200, Object.fromEntries([...this.inboxes].map(([to, inbox]) => [to, inbox.count])));
    }
    if (req.method !== 'POST' || url.pathname !== `/2010-04-01/Accounts/${GATEWAY_ACCOUNT_SID}/Messages.json`) {
      return this.#json(res, 404, { code: 20404, message: 'The requested resource was not found' });
    }
    let body = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > MAX_BODY) { tooLarge = true; req.destroy(); }
    });
    req.on('end', () => {
      if (tooLarge) return;
      const expected = `Basic ${Buffer.from(`${GATEWAY_ACCOUNT_SID}:${GATEWAY_AUTH_TOKEN}`).toString('base64')}`;
      const form = new URLSearchParams(body);
      const to = form.get('To') ?? '';
      const text = form.get('Body') ?? '';
      const code = /#(\w+)\s*$/.exec(text)?.[1];
      if (req.headers.authorization !== expected) { this.refused++; return this.#json(res, 401, { code: 20003, message: 'Authenticate' }); }
      if (!to || !code) { this.refused++; return this.#json(res, 400, { code: 21604, message: 'To and a Body ending in #<code> are required' }); }
      // Recorded on receipt: the message has "arrived" even while the answer is delayed.
      const inbox = this.inboxes.get(to) ?? { count: 0, code: '' };
      inbox.count++;
      inbox.code = code;
      this.inboxes.set(to, inbox);
      this.received++;
      const reply = () => this.#json(res, 201, { sid: `SM${String(this.received).padStart(32, '0')}`, status: 'queued', to });
      if (this.delayMs <= 0) return reply();
      const timer = setTimeout(() => { this.#timers.delete(timer); reply(); }, this.delayMs);
      this.#timers.add(timer);
    });
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
