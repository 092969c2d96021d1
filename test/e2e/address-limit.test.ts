import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { addressKey } from '../../src/shared/address.ts';
import { relyingParty, type RelyingParty } from '../support/rp.ts';

const LIMIT = 20;
const BURST = 60;

describe('the per-address limit on requests that write rows for anyone', () => {
  let t: TestApp;
  let rp: RelyingParty;
  beforeAll(async () => {
    t = await startTestApp({ overrides: { trustProxy: true, loginRequestLimit: { perAddress: LIMIT, windowSeconds: 3600 } } });
    rp = await relyingParty(t, await t.addClient('limited-app'));
  });
  afterAll(() => t.close());

  const authorizationUrl = () => oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
  }).toString();
  const from = (address: string, url: string) => fetch(url, { redirect: 'manual', headers: { accept: 'text/html', 'x-forwarded-for': address } });
  const interactions = async () => Number((await sql<{ n: string }>`select count(*)::text as n from oidc_payloads where model = 'Interaction'`.execute(t.database.db)).rows[0]!.n);

  it('holds exactly under a burst from one address, with a clear 429 page and Retry-After, and writes nothing past it', async () => {
    const before = await interactions();
    const answers = await Promise.all(Array.from({ length: BURST }, () => from('203.0.113.7', authorizationUrl())));
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 303).length).toBe(LIMIT);
    expect(refused.length).toBe(BURST - LIMIT);
    for (const answer of refused) {
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(3500);
      expect(await answer.text()).toMatch(/Too many sign-in requests came from your network\. Wait \d+ seconds/);
    }
    await Promise.all(answers.filter((a) => a.status !== 429).map((a) => a.arrayBuffer()));
    expect(await interactions()).toBe(before + LIMIT);
    // The login pages count against the same bound.
    expect((await from('203.0.113.7', `${t.issuer}/interaction/some-uid`)).status).toBe(429);
  });

  it('counts the same paths in any letter case or percent-encoding, which the routers also accept', async () => {
    const address = '203.0.113.9';
    const spelled = (path: string) => authorizationUrl().replace('/auth?', `${path}?`);
    const answers = await Promise.all(['/AUTH', '/Auth/', '/%61uth', ...Array.from({ length: LIMIT }, () => '/auth')].map((path) => from(address, spelled(path))));
    await Promise.all(answers.map((a) => a.arrayBuffer()));
    expect(answers.filter((a) => a.status === 429)).toHaveLength(answers.length - LIMIT);
    for (const path of ['/INTERACTION/x', '/Session/End']) expect((await from(address, `${t.issuer}${path}`)).status).toBe(429);
  });

  it('counts an IPv6 client by its /64, so moving within it gives no fresh allowance', async () => {
    const answers = await Promise.all(Array.from({ length: LIMIT + 5 }, (_, i) => from(`2001:db8:1:2::${(i + 1).toString(16)}`, authorizationUrl())));
    await Promise.all(answers.map((a) => a.arrayBuffer()));
    expect(answers.filter((a) => a.status === 429)).toHaveLength(5);
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:0db8:0001:0002::ffff'));
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    // As a proxy may write it: in brackets, or with a zone.
    expect(addressKey('[2001:db8:1:2::9]')).toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('fe80::1%eth0')).toBe(addressKey('fe80::2'));
  });

  it('counts each address behind the proxy on its own, and leaves other paths alone', async () => {
    expect((await from('203.0.113.8', authorizationUrl())).status).toBe(303);
    expect((await from('203.0.113.7', `${t.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    expect((await from('203.0.113.7', `${t.issuer}/healthz`)).status).toBe(200);
  });
});
