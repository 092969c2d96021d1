import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { clientRepository } from '../../src/repositories/clients.ts';
import type { StoredUpstreamProvider } from '../../src/repositories/upstream-providers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, type Page } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitStep, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock } from '../support/sms.ts';
import { storedLinks, storedUpstreams, Upstream, type UpstreamAnswer } from '../support/upstream.ts';

const NAMES = ['acme', 'assoc', 'mail', 'subj', 'jit', 'domains', 'partners', 'localmail', 'moved'];

describe('signing in through an upstream provider', () => {
  let t: TestApp;
  let upstream: Upstream;
  let other: Upstream | undefined;
  let rp: RelyingParty;
  let optionalRp: RelyingParty;
  let onlyAcme: RelyingParty;
  const sms = new RecordingSender();
  const clock = new TestClock();

  const provider = (name: string, over: Partial<StoredUpstreamProvider> = {}): StoredUpstreamProvider => ({
    name, issuer: upstream.issuer, clientId: 'keystep', clientSecret: 'keystep-upstream-secret', scope: 'openid email phone profile',
    displayName: name === 'acme' ? 'Acme SSO' : `${name} provider`, usecase: 'local', userAttribute: undefined, domains: ['primary'], mobileClaim: undefined, jit: false,
    ...over,
  });

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { federation: { timeoutMs: 1000 }, sms: { defaultCountry: 'GB', allowedCountries: ['GB'] } } });
    upstream = await Upstream.start(() => [{ clientId: 'keystep', clientSecret: 'keystep-upstream-secret', redirectUris: NAMES.map((n) => `${t.issuer}/federation/${n}/callback`) }]);
    const providers = (await storedUpstreams(t));
    await providers.insert(provider('acme'));
    await providers.insert(provider('assoc', { usecase: 'association' }));
    await providers.insert(provider('mail', { usecase: 'userAttribute', userAttribute: 'email' }));
    await providers.insert(provider('subj', { usecase: 'subjectUri' }));
    await providers.insert(provider('localmail', { usecase: 'local', userAttribute: 'email' }));
    await providers.insert(provider('moved', { usecase: 'association' }));
    await providers.insert(provider('jit', { jit: true, mobileClaim: 'phone_number' }));
    await providers.insert(provider('domains', { domains: ['partners', 'primary'] }));
    await providers.insert(provider('partners', { domains: ['partners'], jit: true }));
    await t.addUser('alice', 'alices-long-password', '+447400170001');
    await t.addUser('bob', 'bobs-long-password', '+447400170002');
    await t.addUser('carol@example.com', 'carols-long-password', '+447400170003');
    await t.addUser('dave', 'daves-long-password', '+447400170004');
    await t.addUser('partners/alice', 'partner-alices-long-password', '+447400170011');
    await t.addUser('nophone', 'nophones-long-password');
    const clients = clientRepository(t.database.db);
    rp = await relyingParty(t, await t.addClient('web-app'));
    await clients.setFirstSteps('web-app', ['password', ...NAMES.map((n) => `idp:${n}`)]);
    optionalRp = await relyingParty(t, await t.addClient('optional-app', { mfa: 'optional' }));
    await clients.setFirstSteps('optional-app', ['password', 'idp:acme']);
    onlyAcme = await relyingParty(t, await t.addClient('acme-only'));
    await clients.setFirstSteps('acme-only', ['idp:acme']);
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
    await other?.close();
  });
  beforeEach(() => {
    // Each test's logins send codes afresh: the per-account send intervals are tested elsewhere.
    clock.advance(3600);
    upstream.resetFaults();
  });

  const accountId = async (username: string) => (await accountRepository(t.database.db).findByUsername(username))!.id;
  const say = (sub: string, claims: Record<string, unknown>) => upstream.claims.set(sub, claims);

  /** From the app to Keystep's first page, then "Continue with …" for `name`, as `answer` at the upstream. */
  async function viaUpstream(name: string, answer: UpstreamAnswer, app = rp) {
    upstream.answer = answer;
    const attempt = await startLogin(app);
    const first = pageOf(attempt.visit);
    const next = await submitStep(attempt.browser, first, 'password', { action: `idp:${name}` });
    return { attempt, first, next };
  }

  async function finishWithCode(app: RelyingParty, attempt: Awaited<ReturnType<typeof startLogin>>, page: Page, phone: string) {
    return exchange(app, attempt, callbackOf(await submitStep(attempt.browser, page, 'sms-otp', { code: sms.lastCode(phone) })));
  }

  it('usecase local: the upstream preferred_username is the local account, then the SMS code; amr fed, sms, mfa', async () => {
    say('acme-alice', { preferred_username: 'alice', email: 'alice@acme.example' });
    const { attempt, first, next } = await viaUpstream('acme', { sub: 'acme-alice', amr: ['pwd', 'otp'], acr: 'urn:acme:gold' });
    expect(first.html).toContain('Continue with Acme SSO');
    // The password form is still there.
    expect(first.html).toContain('name="password"');
    const codePage = pageOf(next);
    expect(codePage.html).toContain('autocomplete="one-time-code"');
    const tokens = await finishWithCode(rp, attempt, codePage, '+447400170001');
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(await accountId('alice'));
    expect(claims.amr).toEqual(['fed', 'sms', 'mfa']);
    expect(claims.acr).toBe('urn:keystep:acr:mfa');
    // The upstream's own amr and acr are kept in the audit event only.
    const event = await t.database.db.selectFrom('auth_events').selectAll().where('event', '=', 'login.federated').where('result', '=', 'success').orderBy('at', 'desc').executeTakeFirstOrThrow();
    expect(event.detail).toMatchObject({ provider: 'acme', upstreamAmr: ['pwd', 'otp'], upstreamAcr: 'urn:acme:gold' });
  });

  it('usecase association: only a link finds the account; without one, a clear page and no tokens', async () => {
    say('assoc-1', { preferred_username: 'alice' });
    const unlinked = await viaUpstream('assoc', { sub: 'assoc-1' });
    const page = pageOf(unlinked.next);
    expect(alertText(page.html)).toBe('This sign-in is not linked to an account. Ask your administrator to link your assoc provider account, or go back to the app.');
    expect(page.html).toContain('Cancel and return to the app');
    const cancelled = await unlinked.attempt.browser.submit(new URL(`/interaction/${new URL(page.url).pathname.split('/')[2]}/cancel`, page.url).toString(), { _csrf: /name="_csrf" value="([^"]+)"/.exec(page.html)![1]! });
    expect(new URL(callbackOf(cancelled)).searchParams.get('error')).toBe('access_denied');

    await (await storedLinks(t)).link('assoc', 'assoc-1', await accountId('bob'));
    const linked = await viaUpstream('assoc', { sub: 'assoc-1' });
    const tokens = await finishWithCode(rp, linked.attempt, pageOf(linked.next), '+447400170002');
    // The link, not the preferred_username (alice), decides.
    expect(tokens.claims()!.sub).toBe(await accountId('bob'));
  });

  it('usecase userAttribute: a verified email is the username; an unverified one finds nobody', async () => {
    say('mail-1', { email: 'carol@example.com', email_verified: true });
    const found = await viaUpstream('mail', { sub: 'mail-1' });
    const tokens = await finishWithCode(rp, found.attempt, pageOf(found.next), '+447400170003');
    expect(tokens.claims()!.sub).toBe(await accountId('carol@example.com'));

    say('mail-2', { email: 'carol@example.com', email_verified: false });
    const refused = await viaUpstream('mail', { sub: 'mail-2' });
    expect(alertText(pageOf(refused.next).html)).toMatch(/not linked to an account/);
  });

  it('usecase local with --user-attribute email: an email the upstream says is unverified finds nobody either', async () => {
    say('localmail-1', { email: 'carol@example.com', email_verified: false });
    const refused = await viaUpstream('localmail', { sub: 'localmail-1' });
    expect(alertText(pageOf(refused.next).html)).toMatch(/not linked to an account/);
    say('localmail-2', { email: 'carol@example.com', email_verified: true });
    const found = await viaUpstream('localmail', { sub: 'localmail-2' });
    expect((await finishWithCode(rp, found.attempt, pageOf(found.next), '+447400170003')).claims()!.sub).toBe(await accountId('carol@example.com'));
  });

  it('a link holds for the issuer it was made at: a provider pointed at another issuer does not inherit its links', async () => {
    await (await storedLinks(t)).link('moved', 'moved-1', await accountId('bob'));
    // The operator points the name at another provider (the config file's issuer changed): its subjects are its own.
    other = await Upstream.start(() => [{ clientId: 'keystep', clientSecret: 'keystep-upstream-secret', redirectUris: [`${t.issuer}/federation/moved/callback`] }]);
    other.answer = { sub: 'moved-1' };
    other.claims.set('moved-1', {});
    await t.database.db.updateTable('upstream_providers').set({ settings: JSON.stringify({ ...provider('moved', { usecase: 'association' }), clientSecret: undefined, name: undefined, issuer: other.issuer }) }).where('name', '=', 'moved').execute();
    const attempt = await startLogin(rp);
    const page = pageOf(await submitStep(attempt.browser, pageOf(attempt.visit), 'password', { action: 'idp:moved' }));
    expect(alertText(page.html)).toMatch(/not linked to an account/);
  });

  it('usecase subjectUri: the upstream subject is the username', async () => {
    say('dave', {});
    const { attempt, next } = await viaUpstream('subj', { sub: 'dave' });
    expect((await finishWithCode(rp, attempt, pageOf(next), '+447400170004')).claims()!.sub).toBe(await accountId('dave'));
  });

  it('searches the provider\'s domains in order: the first match wins', async () => {
    say('domains-alice', { preferred_username: 'alice' });
    const first = await viaUpstream('domains', { sub: 'domains-alice' });
    const partner = (await accountRepository(t.database.db).findInDomain('partners', 'alice'))!.id;
    expect((await finishWithCode(rp, first.attempt, pageOf(first.next), '+447400170011')).claims()!.sub).toBe(partner);
    // Nobody of that name in partners: primary, next in the list.
    say('domains-dave', { preferred_username: 'dave' });
    const second = await viaUpstream('domains', { sub: 'domains-dave' });
    expect((await finishWithCode(rp, second.attempt, pageOf(second.next), '+447400170004')).claims()!.sub).toBe(await accountId('dave'));
    // A provider that searches partners only does not find primary's dave; just in time, it makes partners/dave.
    const made = await viaUpstream('partners', { sub: 'domains-dave' });
    expect(pageOf(made.next).html).toContain('autocomplete="tel"');
    const created = (await accountRepository(t.database.db).findInDomain('partners', 'dave'))!;
    expect(created.id).not.toBe(await accountId('dave'));
  });

  it('just in time: makes a linked account with the upstream\'s verified number, then the SMS code; the next sign-in finds it', async () => {
    say('jit-erin', { preferred_username: 'erin', phone_number: '+447400170555', phone_number_verified: true });
    const { attempt, next } = await viaUpstream('jit', { sub: 'jit-erin' });
    const codePage = pageOf(next);
    expect(codePage.html).toContain('+44 •••• ••05 55');
    const tokens = await finishWithCode(rp, attempt, codePage, '+447400170555');
    const id = await accountId('erin');
    expect(tokens.claims()!.sub).toBe(id);
    expect(tokens.claims()!.amr).toEqual(['fed', 'sms', 'mfa']);

    // Renamed upstream since: the link still finds the same account; no second one is made.
    say('jit-erin', { preferred_username: 'erin-renamed', phone_number: '+447400170555', phone_number_verified: true });
    const again = await viaUpstream('jit', { sub: 'jit-erin' });
    expect((await finishWithCode(rp, again.attempt, pageOf(again.next), '+447400170555')).claims()!.sub).toBe(id);
    expect(await accountRepository(t.database.db).findByUsername('erin-renamed')).toBeUndefined();
  });

  it('just in time: an unverified upstream number is not used; the user is asked for one', async () => {
    say('jit-finn', { preferred_username: 'finn', phone_number: '+447400170666', phone_number_verified: false });
    const { next } = await viaUpstream('jit', { sub: 'jit-finn' });
    expect(pageOf(next).html).toContain('autocomplete="tel"');
    expect(sms.to('+447400170666')).toEqual([]);
    expect((await accountRepository(t.database.db).findByUsername('finn'))!.phone).toBeNull();
  });

  it('just in time: a verified upstream number in a country SMS may not go to is not taken; the user is asked for one', async () => {
    say('jit-gus', { preferred_username: 'gus', phone_number: '+12025550143', phone_number_verified: true });
    const { next } = await viaUpstream('jit', { sub: 'jit-gus' });
    expect(pageOf(next).html).toContain('autocomplete="tel"');
    expect((await accountRepository(t.database.db).findByUsername('gus'))!.phone).toBeNull();
  });

  it('just in time: a missing username claim never makes an account named "null"', async () => {
    say('jit-nameless', { preferred_username: null });
    await viaUpstream('jit', { sub: 'jit-nameless' });
    const accounts = accountRepository(t.database.db);
    expect(await accounts.findByUsername('null')).toBeUndefined();
    expect(await accounts.findByUsername('jit.jit-nameless')).toBeDefined();
  });

  it('just in time: a claim that is no username (a domain\'s slash, spaces, control characters) names no account; the link does', async () => {
    const accounts = accountRepository(t.database.db);
    const partner = (await accounts.findInDomain('partners', 'alice'))!;
    say('jit-slash', { preferred_username: 'partners/alice' });
    await viaUpstream('jit', { sub: 'jit-slash' });
    // Not an account named "partners/alice" in primary, shown and typed as partners' alice.
    const made = (await (await storedLinks(t)).findLinked('jit', 'jit-slash'))!;
    expect(made.id).not.toBe(partner.id);
    expect(made).toMatchObject({ domain: 'primary', username: 'jit.jit-slash' });
    say('jit|odd sub', { preferred_username: 'a\u202eb c' });
    await viaUpstream('jit', { sub: 'jit|odd sub' });
    const odd = (await (await storedLinks(t)).findLinked('jit', 'jit|odd sub'))!;
    expect(odd.username).toMatch(/^jit\.[A-Za-z0-9_-]{22}$/);
    const names = (await t.database.db.selectFrom('accounts').select('username').execute()).map((r) => r.username);
    expect(names.filter((n) => !/^[\p{L}\p{N}._@+-]{1,64}$/u.test(n))).toEqual([]);
  });

  it('two first sign-ins of one identity at once make one account', async () => {
    say('jit-twice', { preferred_username: 'twice' });
    upstream.answer = { sub: 'jit-twice' };
    upstream.holdCallbacks = true;
    const held = [];
    for (let i = 0; i < 2; i++) {
      const attempt = await startLogin(rp);
      await submitStep(attempt.browser, pageOf(attempt.visit), 'password', { action: 'idp:jit' });
      held.push({ attempt, callback: upstream.held.at(-1)! });
    }
    upstream.holdCallbacks = false;
    const pages = await Promise.all(held.map((h) => h.attempt.browser.visit(h.callback).then(pageOf)));
    for (const p of pages) expect(p.html).toContain('autocomplete="tel"');
    const rows = await t.database.db.selectFrom('accounts').select('id').where('username', '=', 'twice').execute();
    expect(rows).toHaveLength(1);
    expect((await (await storedLinks(t)).findLinked('jit', 'jit-twice'))!.id).toBe(rows[0]!.id);
  });

  it('a client with one provider and no password goes straight there', async () => {
    say('acme-alice', { preferred_username: 'alice' });
    upstream.answer = { sub: 'acme-alice' };
    const attempt = await startLogin(onlyAcme);
    // No Keystep page before the upstream: the first page is the code page.
    expect(pageOf(attempt.visit).html).toContain('autocomplete="one-time-code"');
    expect((await finishWithCode(onlyAcme, attempt, pageOf(attempt.visit), '+447400170001')).claims()!.amr).toEqual(['fed', 'sms', 'mfa']);
  });

  it('skips the SMS step only for a client whose MFA is optional', async () => {
    say('acme-nophone', { preferred_username: 'nophone' });
    const optional = await viaUpstream('acme', { sub: 'acme-nophone' }, optionalRp);
    const tokens = await exchange(optionalRp, optional.attempt, callbackOf(optional.next));
    expect(tokens.claims()!.amr).toEqual(['fed']);
    expect(tokens.claims()!.acr).toBe('urn:keystep:acr:pwd');
    // The default client: the number is asked for (phone capture), not skipped.
    const required = await viaUpstream('acme', { sub: 'acme-nophone' });
    expect(pageOf(required.next).html).toContain('autocomplete="tel"');
  });
});

describe('an upstream sign-in at a client whose MFA is optional, then another client', () => {
  let t: TestApp;
  let upstream: Upstream;
  const sms = new RecordingSender();

  beforeAll(async () => {
    // An exempt account: an ordinary login skips its second factor, an upstream one does not.
    t = await startTestApp({ smsSender: sms, random: distinctCodes(), overrides: { smsOtp: { enableByUserClaim: true } } });
    upstream = await Upstream.start(() => [{ clientId: 'keystep', clientSecret: 'keystep-upstream-secret', redirectUris: [`${t.issuer}/federation/acme/callback`] }]);
    await (await storedUpstreams(t)).insert({
      name: 'acme', issuer: upstream.issuer, clientId: 'keystep', clientSecret: 'keystep-upstream-secret', scope: 'openid profile',
      displayName: 'Acme SSO', usecase: 'local', userAttribute: undefined, domains: ['primary'], mobileClaim: undefined, jit: false,
    });
    const id = await t.addUser('ivy', 'ivys-long-password', '+447400170099');
    await accountRepository(t.database.db).setSmsOtpExempt(id, true);
    upstream.claims.set('acme-ivy', { preferred_username: 'ivy' });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it('the session does not sign in a client that does not allow skipping the SMS step', async () => {
    const clients = clientRepository(t.database.db);
    const optional = await relyingParty(t, await t.addClient('optional-app', { mfa: 'optional' }));
    await clients.setFirstSteps('optional-app', ['password', 'idp:acme']);
    const strict = await relyingParty(t, await t.addClient('strict-app'));
    await clients.setFirstSteps('strict-app', ['password', 'idp:acme']);
    upstream.answer = { sub: 'acme-ivy' };
    const first = await startLogin(optional);
    const signedIn = await submitStep(first.browser, pageOf(first.visit), 'password', { action: 'idp:acme' });
    expect((await exchange(optional, first, callbackOf(signedIn))).claims()!.amr).toEqual(['fed']);
    // The same browser at the other app: a sign-in page, not tokens from the session that skipped the SMS.
    const second = await startLogin(strict, {}, first.browser);
    expect(second.visit.callback).toBeUndefined();
    const codePage = pageOf(await submitStep(second.browser, pageOf(second.visit), 'password', { action: 'idp:acme' }));
    expect(codePage.html).toContain('autocomplete="one-time-code"');
    const tokens = await exchange(strict, second, callbackOf(await submitStep(second.browser, codePage, 'sms-otp', { code: sms.lastCode('+447400170099') })));
    expect(tokens.claims()!.amr).toEqual(['fed', 'sms', 'mfa']);
  });
});
