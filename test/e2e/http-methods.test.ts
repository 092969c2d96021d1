import { METHODS, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

interface Answer { status: number; allow: string | undefined; body: string }

function send(url: string, method: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { accept: 'text/html' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// CONNECT asks for a tunnel, not a resource: Node's server hands it to a 'connect' listener, and
// without one closes the connection.
const methods = METHODS.filter((m) => m !== 'CONNECT');

// Keystep's own paths and the methods each takes.
const ours: Record<string, string[]> = {
  '/interaction/x': ['GET', 'HEAD', 'POST'],
  '/account': ['GET', 'HEAD'],
  '/healthz': ['GET', 'HEAD'],
  '/readyz': ['GET', 'HEAD'],
  '/static/keystep.css': ['GET', 'HEAD'],
};
// The provider's: it answers wrong methods itself.
const providers = ['/auth', '/token', '/.well-known/openid-configuration', '/jwks', '/me', '/session/end', '/token/revocation', '/request'];
const unknown = ['/nope', '/static/nope', '/interaction', '/interaction/x/nope', '/account/nope'];

describe('every HTTP method on every kind of path', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(() => t.close());

  it('answers 405 with Allow on our paths for methods they do not take', async () => {
    const wrong: string[] = [];
    for (const [path, allowed] of Object.entries(ours)) {
      for (const method of methods.filter((m) => !allowed.includes(m) && m !== 'OPTIONS')) {
        const answer = await send(t.issuer + path, method);
        const allow = answer.allow?.split(', ').sort();
        if (answer.status !== 405 || JSON.stringify(allow) !== JSON.stringify([...allowed].sort())) wrong.push(`${method} ${path}: ${answer.status} ${answer.allow}`);
        else if (method !== 'HEAD' && !answer.body.includes('does not take that kind of request')) wrong.push(`${method} ${path}: no page`);
      }
      const options = await send(t.issuer + path, 'OPTIONS');
      expect([options.status, options.allow?.split(', ').sort()]).toEqual([200, [...allowed].sort()]);
    }
    expect(wrong).toEqual([]);
  });

  it('answers 404 on paths nobody has, whatever the method', async () => {
    const wrong: string[] = [];
    for (const path of unknown) {
      for (const method of methods) {
        const answer = await send(t.issuer + path, method);
        if (answer.status !== 404) wrong.push(`${method} ${path}: ${answer.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('never answers 5xx on the provider\'s paths: its own 4xx for methods they do not take', async () => {
    const wrong: string[] = [];
    for (const path of providers) {
      for (const method of methods) {
        const answer = await send(t.issuer + path, method);
        if (answer.status >= 500) wrong.push(`${method} ${path}: ${answer.status}`);
      }
      for (const method of ['TRACE', 'PROPFIND', 'MKCOL', 'LINK']) expect((await send(t.issuer + path, method)).status).toBe(404);
    }
    expect(wrong).toEqual([]);
  });
});
