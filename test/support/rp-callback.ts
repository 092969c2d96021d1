import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The relying party's redirect_uri as a real HTTP server on loopback: it takes the authorization
 * response (a GET with a query, or a form_post POST) and hands it over as a fetch Request, which
 * openid-client's authorizationCodeGrant accepts as it is.
 */
export class CallbackServer {
  readonly #server: Server;
  readonly #waiting: ((request: Request) => void)[] = [];
  readonly #received: Request[] = [];

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        // Browsers also ask for a favicon; only the app's own addresses count.
        if (!/^\/(callback|signed-out)(\?|$)/.test(req.url ?? '')) {
          res.writeHead(404).end();
          return;
        }
        const method = req.method ?? 'GET';
        const body = method === 'POST' ? Buffer.concat(chunks).toString('utf8') : undefined;
        const request = new Request(new URL(req.url ?? '/', this.origin), { method, body, headers: { 'content-type': String(req.headers['content-type'] ?? '') } });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>App</title><h1>Back at the app</h1>');
        const waiter = this.#waiting.shift();
        if (waiter) waiter(request);
        else this.#received.push(request);
      });
    });
  }

  static async start(): Promise<CallbackServer> {
    const callback = new CallbackServer();
    await new Promise<void>((resolve) => callback.#server.listen(0, '127.0.0.1', resolve));
    return callback;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get redirectUri(): string {
    return `${this.origin}/callback`;
  }

  /** The next authorization response that reaches the app. */
  next(): Promise<Request> {
    const early = this.#received.shift();
    return early ? Promise.resolve(early) : new Promise((resolve) => this.#waiting.push(resolve));
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
