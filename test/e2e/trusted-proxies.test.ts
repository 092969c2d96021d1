import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app.ts';
import { relyingParty } from '../support/rp.ts';

const LIMIT = 3;

/** How many of `LIMIT + 3` requests, each claiming another address in X-Forwarded-For, are refused. */
async function refusedWith(trustedProxies: string[], trustProxy = true): Promise<number> {
  const t = await startTestApp({ overrides: { trustProxy, trustedProxies, loginRequestLimit: { perAddress: LIMIT, windowSeconds: 3600 } } });
  try {
    const rp = await relyingParty(t, await t.addClient('proxied-app'));
    const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString();
    const answers = await Promise.all(Array.from({ length: LIMIT + 3 }, (_, i) => fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } })));
    await Promise.all(answers.map((a) => a.arrayBuffer()));
    return answers.filter((a) => a.status === 429).length;
  } finally {
    await t.close();
  }
}

describe('trustedProxies', () => {
  it('counts requests by the forwarded address only when they come through a trusted proxy', async () => {
    // The test client is 127.0.0.1: a trusted proxy, so each request is its own client.
    expect(await refusedWith(['127.0.0.1'])).toBe(0);
    // Not a trusted proxy: what it wrote in X-Forwarded-For is ignored, and all are one client.
    expect(await refusedWith(['10.0.0.0/8'])).toBe(3);
  });

  it('without trustProxy, X-Forwarded-For is no one\'s to write: all are one client, whatever trustedProxies does not name', async () => {
    expect(await refusedWith([], false)).toBe(3);
    expect(await refusedWith(['10.0.0.0/8'], false)).toBe(3);
  });
});
