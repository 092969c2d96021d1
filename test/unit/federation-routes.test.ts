import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { federationRoutes } from '../../src/http/federation-routes.ts';

/** The fixed callback of each upstream provider forwards, by the state, to a login or to the account page. */
describe('the upstream callback', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    const app = new Koa();
    app.use(federationRoutes().routes());
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const forwarded = async (state: string) => {
    const answer = await fetch(`${origin}/federation/acme/callback?state=${encodeURIComponent(state)}&code=c`, { redirect: 'manual' });
    return new URL(answer.headers.get('location') ?? '', origin).pathname;
  };

  it('forwards an account change\'s state (acct_ and 24 characters) to the account page', async () => {
    expect(await forwarded(`acct_${'A'.repeat(24)}.secret`)).toBe('/account/federation/return');
  });

  it('forwards a login whose uid happens to begin with acct_ to that login (the provider\'s uids are 43 characters of A-Z, a-z, 0-9, _ and -)', async () => {
    const uid = `acct_${'x'.repeat(38)}`;
    expect(await forwarded(`${uid}.secret`)).toBe(`/interaction/${uid}/return/federated`);
  });
});
