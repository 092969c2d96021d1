import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { clientRepository } from '../../src/repositories/clients.ts';
import type { StoredUpstreamProvider } from '../../src/repositories/upstream-providers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitStep, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock } from '../support/sms.ts';
import { storedUpstreams, Upstream, type UpstreamAnswer } from '../support/upstream.ts';

const NAMES = ['acme', 'slow', 'keys', 'jit', 'broken'];
const PHONE = '+447400180001';

describe('upstream sign-ins that fail', () => {
  let t: TestApp;
  let upstream: Upstream;
  let rp: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();

  const provider = (name: string): StoredUpstreamProvider => ({
    name, issuer: upstream.issuer, clientId: 'keystep', clientSecret: 'keystep-upstream-secret', scope: 'openid profile',
    displayName: name === 'acme' ? 'Acme SSO' : name, usecase: 'local', userAttribute: undefined, domains: ['primary'], mobileClaim: undefined, jit: false,
  });

  beforeAll(async () => {
    // A short limit on upstream calls: the timeouts below wait it out.
    t = await startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { federation: { timeoutMs: 300 } } });
    upstream = await Upstream.start(() => [{ clientId: 'keystep', clientSecret: 'keystep-upstream-secret', redirectUris: NAMES.map((n) => `${t.issuer}/federation/${n}/callback`) }]);
    for (const name of NAMES) await (await storedUpstreams(t)).insert({ ...provider(name), jit: name === 'jit' });
    await t.addUser('alice', 'alices-long-password', PHONE);
    upstream.claims.set('acme-alice', { preferred_username: 'alice' });
    upstream.claims.set('acme-mallory', { preferred_username: 'mallory' });
    rp = await relyingParty(t, await t.addClient('web-app'));
    await clientRepository(t.database.db).setFirstSteps('web-app', ['password', ...NAMES.map((n) => `idp:${n}`)]);
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    clock.advance(3600);
    upstream.resetFaults();
  });

  const federatedEvents = () => t.database.db.selectFrom('auth_events').selectAll().where('event', '=', 'login.federated').orderBy('at').execute();

  /** Starts a login and the upstream sign-in; with `hold`, stops before the browser is sent back to Keystep. */
  async function start(answer: UpstreamAnswer, options: { name?: string; hold?: boolean } = {}) {
    upstream.answer = answer;
    upstream.holdCallbacks = options.hold === true;
    const attempt = await startLogin(rp);
    const first = pageOf(attempt.visit);
    const next = await submitStep(attempt.browser, first, 'password', { action: `idp:${options.name ?? 'acme'}` });
    return { attempt, first, next, callback: options.hold ? upstream.held.at(-1)! : undefined };
  }

  /** The page is the login's first page again, with the message and a way back to the app. */
  function expectFirstPageSaying(html: string, message: RegExp) {
    expect(alertText(html)).toMatch(message);
    expect(html).toContain('Continue with Acme SSO');
    expect(html).toContain('Cancel and return to the app');
  }

  it('an error from the upstream: a clear page, nothing written, and a second try signs in', async () => {
    const { attempt, next } = await start({ error: 'access_denied' });
    expectFirstPageSaying(pageOf(next).html, /^The sign-in at Acme SSO did not complete/);
    expect(pageOf(next).status).toBe(200);
    const flow = await t.database.db.selectFrom('login_flows').selectAll().executeTakeFirstOrThrow();
    expect(flow.account_id).toBeNull();
    expect(flow.passed).toEqual([]);
    upstream.answer = { sub: 'acme-alice' };
    const codePage = pageOf(await submitStep(attempt.browser, pageOf(next), 'password', { action: 'idp:acme' }));
    const done = await submitStep(attempt.browser, codePage, 'sms-otp', { code: sms.lastCode(PHONE) });
    expect((await exchange(rp, attempt, callbackOf(done))).claims()!.amr).toEqual(['fed', 'sms', 'mfa']);
  });

  it('a forged state is refused before any code is redeemed', async () => {
    const { attempt, callback } = await start({ sub: 'acme-alice' }, { hold: true });
    const forged = new URL(callback!);
    forged.searchParams.set('state', `${forged.searchParams.get('state')!.split('.')[0]}.not-the-secret`);
    const before = upstream.tokenRequests;
    const page = pageOf(await attempt.browser.visit(forged.toString()));
    expectFirstPageSaying(page.html, /does not belong to this sign-in/);
    expect(upstream.tokenRequests).toBe(before);
    // The real answer no longer counts either: the forged one ended that try.
    expectFirstPageSaying(pageOf(await attempt.browser.visit(callback!)).html, /does not belong to this sign-in/);
    expect(upstream.tokenRequests).toBe(before);
  });

  it('an answer for a provider the client stopped offering meanwhile is refused before any code is redeemed', async () => {
    const { attempt, callback } = await start({ sub: 'acme-alice' }, { hold: true });
    const clients = clientRepository(t.database.db);
    await clients.setFirstSteps('web-app', ['password', ...NAMES.filter((n) => n !== 'acme').map((n) => `idp:${n}`)]);
    clock.advance(10); // past the client cache's few seconds
    try {
      const before = upstream.tokenRequests;
      const page = pageOf(await attempt.browser.visit(callback!));
      expect(alertText(page.html)).toMatch(/does not belong to this sign-in/);
      expect(upstream.tokenRequests).toBe(before);
      expect(await t.database.db.selectFrom('login_flows').select('account_id').where('account_id', 'is not', null).execute()).toEqual([]);
    } finally {
      await clients.setFirstSteps('web-app', ['password', ...NAMES.map((n) => `idp:${n}`)]);
      clock.advance(10);
    }
  });

  it('an answer that arrives at another provider\'s callback is refused before any code is redeemed', async () => {
    const { attempt, callback } = await start({ sub: 'acme-alice' }, { hold: true });
    const before = upstream.tokenRequests;
    const elsewhere = callback!.replace('/federation/acme/callback', '/federation/slow/callback');
    expectFirstPageSaying(pageOf(await attempt.browser.visit(elsewhere)).html, /does not belong to this sign-in/);
    expect(upstream.tokenRequests).toBe(before);
  });

  it('a callback without a state, or of a login that is not this browser\'s, is a clear page and redeems nothing', async () => {
    const { callback } = await start({ sub: 'acme-alice' }, { hold: true });
    const before = upstream.tokenRequests;
    const noState = new URL(callback!);
    noState.searchParams.delete('state');
    const missing = pageOf(await new Browser(rp.redirectUri).visit(noState.toString()));
    expect(missing.status).toBe(400);
    expect(missing.html).toMatch(/expired or is not valid/);
    // Someone else's browser (the link was sent to a victim, or the other way round): no interaction cookie.
    const elsewhere = pageOf(await new Browser(rp.redirectUri).visit(callback!));
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.html).toMatch(/expired or is not valid/);
    expect(upstream.tokenRequests).toBe(before);
  });

  it('a wrong issuer in the response (RFC 9207) is refused before the code is redeemed', async () => {
    const { attempt, callback } = await start({ sub: 'acme-alice' }, { hold: true });
    const wrong = new URL(callback!);
    wrong.searchParams.set('iss', 'https://evil.example');
    const before = upstream.tokenRequests;
    expectFirstPageSaying(pageOf(await attempt.browser.visit(wrong.toString())).html, /could not be trusted/);
    expect(upstream.tokenRequests).toBe(before);
    const events = await federatedEvents();
    expect(events.at(-1)).toMatchObject({ result: 'failure', reason: 'bad_response' });
  });

  it('a replayed callback changes nothing, and a code used in one login is refused in another', async () => {
    const a = await start({ sub: 'acme-alice' }, { hold: true });
    const codePage = pageOf(await a.attempt.browser.visit(a.callback!));
    expect(codePage.html).toContain('autocomplete="one-time-code"');
    const successes = (await federatedEvents()).filter((e) => e.result === 'success').length;
    // The same answer again: the login is past its first stage; it stays on the code page.
    const replay = pageOf(await a.attempt.browser.visit(a.callback!));
    expect(replay.html).toContain('autocomplete="one-time-code"');
    expect((await federatedEvents()).filter((e) => e.result === 'success').length).toBe(successes);

    // Login B, by mallory, with alice's (used) code in place of its own.
    const b = await start({ sub: 'acme-mallory' }, { hold: true });
    const injected = new URL(b.callback!);
    injected.searchParams.set('code', new URL(a.callback!).searchParams.get('code')!);
    expectFirstPageSaying(pageOf(await b.attempt.browser.visit(injected.toString())).html, /could not be finished/);
    expect((await federatedEvents()).at(-1)).toMatchObject({ result: 'failure', reason: 'code_refused' });
    const flow = await t.database.db.selectFrom('login_flows').selectAll().where('uid', '=', new URL(b.first.url).pathname.split('/')[2]!).executeTakeFirstOrThrow();
    expect(flow.account_id).toBeNull();
  });

  it('an upstream that does not answer discovery in time: a clear page', async () => {
    upstream.silent = 'discovery';
    const { next } = await start({ sub: 'acme-alice' }, { name: 'slow' });
    expect(alertText(pageOf(next).html)).toMatch(/^slow did not answer/);
  });

  it('a token endpoint that does not answer in time: a clear page, no account', async () => {
    const { attempt, callback } = await start({ sub: 'acme-alice' }, { hold: true });
    upstream.silent = 'token';
    const page = pageOf(await attempt.browser.visit(callback!));
    expectFirstPageSaying(page.html, /^Acme SSO did not answer/);
    expect((await federatedEvents()).at(-1)).toMatchObject({ result: 'failure', reason: 'unreachable' });
  });

  it('an upstream whose discovery document has no authorization endpoint: a clear page, not a 500', async () => {
    upstream.noAuthorizationEndpoint = true;
    const { next } = await start({ sub: 'acme-alice' }, { name: 'broken' });
    expect(pageOf(next).status).toBe(200);
    expect(alertText(pageOf(next).html)).toMatch(/^broken did not answer/);
  });

  it('an ID token that does not validate (signed by a key the upstream does not publish): a clear page', async () => {
    upstream.foreignKeys = true;
    const { next } = await start({ sub: 'acme-alice' }, { name: 'keys' });
    expect(alertText(pageOf(next).html)).toMatch(/could not be checked/);
    expect((await federatedEvents()).at(-1)).toMatchObject({ result: 'failure', reason: 'bad_id_token' });
  });

  it('NUL in the answer\'s error (the user holds the state and may send anything): a clear page, not a 500', async () => {
    const { attempt, callback } = await start({ sub: 'acme-alice' }, { hold: true });
    const garbage = new URL(callback!);
    garbage.searchParams.delete('code');
    garbage.searchParams.set('error', 'access_denied\u0000\ud800');
    const page = pageOf(await attempt.browser.visit(garbage.toString()));
    expect(page.status).toBe(200);
    expectFirstPageSaying(page.html, /^The sign-in at Acme SSO did not complete/);
    expect((await federatedEvents()).at(-1)).toMatchObject({ result: 'failure', reason: 'error_response' });
  });

  it('an upstream whose ID token carries garbage (NUL in amr, acr or sub, a huge sub): a clear page, not a 500, and nothing made', async () => {
    const accounts = () => t.database.db.selectFrom('accounts').select('username').execute();
    const before = (await accounts()).length;
    upstream.claims.set('acme-alice', { preferred_username: 'alice' });
    const amr = await start({ sub: 'acme-alice', amr: ['pwd\u0000'], acr: 'gold\u0000' });
    // The sign-in itself is sound: only what is kept for the audit trail is cleaned.
    expect(pageOf(amr.next).html).toContain('autocomplete="one-time-code"');
    for (const sub of ['jit-\u0000nul', `jit-${'x'.repeat(3000)}`]) {
      upstream.claims.set(sub, { preferred_username: 'someone' });
      const { next } = await start({ sub }, { name: 'jit' });
      expect(pageOf(next).status).toBe(200);
      expect(alertText(pageOf(next).html)).toMatch(/could not be checked/);
      expect((await federatedEvents()).at(-1)).toMatchObject({ result: 'failure', reason: 'bad_id_token' });
    }
    expect((await accounts()).length).toBe(before);
  });

  it('a stored client secret that does not open: the provider is not asked, not even as a public client', async () => {
    const row = () => t.database.db.selectFrom('upstream_providers').select('client_secret').where('name', '=', 'slow').executeTakeFirstOrThrow();
    const sealed = (await row()).client_secret;
    await t.database.db.updateTable('upstream_providers').set({ client_secret: (await t.database.db.selectFrom('upstream_providers').select('client_secret').where('name', '=', 'acme').executeTakeFirstOrThrow()).client_secret }).where('name', '=', 'slow').execute();
    try {
      const before = upstream.tokenRequests;
      const { next } = await start({ sub: 'acme-alice' }, { name: 'slow' });
      expect(alertText(pageOf(next).html)).toMatch(/^slow did not answer/);
      expect(upstream.tokenRequests).toBe(before);
    } finally {
      await t.database.db.updateTable('upstream_providers').set({ client_secret: sealed }).where('name', '=', 'slow').execute();
    }
  });

  it('a disabled account is not signed in', async () => {
    const accounts = accountRepository(t.database.db);
    const id = await t.addUser('mallory', 'mallorys-long-password', '+447400180002');
    await accounts.setDisabled(id, true);
    const { next } = await start({ sub: 'acme-mallory' });
    expectFirstPageSaying(pageOf(next).html, /disabled/);
  });
});
