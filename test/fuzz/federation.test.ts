import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { clientRepository } from '../../src/repositories/clients.ts';
import { submitStep } from '../support/rp.ts';
import { storedUpstreams, Upstream } from '../support/upstream.ts';
import { mostlyGet, nearlyValid, pairs, ref, request, value, type Fields, type Value } from './arbitraries.ts';
import { startFuzzApp, type FuzzApp } from './fuzz-app.ts';
import { fuzzIt } from './harness.ts';
import { atPasswordPage, freshUser } from './logins.ts';

/** What an upstream's answer carries, each mostly the real one of this run's login. */
const answer: Fields = {
  state: value(ref('state'), ref('state'), ref('state'), ref('uid'), 'x.y'),
  code: value(ref('code'), ref('code'), 'not-a-code'),
  iss: value(ref('iss'), ref('iss'), 'http://127.0.0.1:9'),
  via: value('acme', 'other'),
  error: value('access_denied', 'server_error'),
  error_description: value('no'),
  action: value('return', 'idp:acme'),
};
const real: Record<string, Value> = { state: ref('state'), code: ref('code'), iss: ref('iss') };

/**
 * An upstream sign-in, sent back to Keystep with an answer of any shape: the callback, or the
 * login's return route at once, or the return route of another factor.
 */
describe('fuzzing the return from an upstream provider', () => {
  let fuzz: FuzzApp;
  let upstream: Upstream;
  beforeAll(async () => {
    fuzz = await startFuzzApp();
    const { t } = fuzz;
    upstream = await Upstream.start(() => [{ clientId: 'keystep', clientSecret: 'keystep-upstream-secret', redirectUris: ['acme', 'other'].map((n) => `${t.issuer}/federation/${n}/callback`) }]);
    for (const name of ['acme', 'other']) {
      await (await storedUpstreams(t)).insert({
        name, issuer: upstream.issuer, clientId: 'keystep', clientSecret: 'keystep-upstream-secret', scope: 'openid profile',
        displayName: name, usecase: 'local', userAttribute: undefined, domains: ['primary'], mobileClaim: undefined, jit: false,
      });
    }
    // The client offers acme only: `other` is a provider Keystep knows that this login may not use.
    await clientRepository(t.database.db).setFirstSteps('web-app', ['password', 'idp:acme']);
  });
  afterAll(async () => {
    await fuzz?.t.close();
    await upstream?.close();
  });

  /** A login sent to acme, its answer held: the login and the answer's parameters as references. */
  async function heldAnswer() {
    const { t, rp } = fuzz;
    const user = await freshUser(t, { phone: true });
    upstream.claims.set(`sub-${user.username}`, { preferred_username: user.username });
    upstream.answer = { sub: `sub-${user.username}` };
    upstream.holdCallbacks = true;
    upstream.held.length = 0;
    const login = await atPasswordPage(t, rp);
    await submitStep(login.browser, login.page, 'password', { action: 'idp:acme' }).catch(() => undefined);
    const held = upstream.held.at(-1);
    if (!held) throw new Error('the upstream sent nobody back');
    const back = new URL(held);
    for (const key of ['state', 'code', 'iss']) login.refs[key] = back.searchParams.get(key) ?? '';
    return login;
  }

  fuzzIt('a burst of 20 simultaneous answers to one login, the real one among them, passes the first stage once', { runs: 3, msPerRun: 600, shrink: false }, () => fuzz.t,
    fc.array(fc.tuple(fc.constantFrom('/federation/acme/callback', 'return/federated'), request({ method: fc.constant('GET'), query: nearlyValid(real, answer) })), { minLength: 20, maxLength: 20 }),
    async (requests) => {
      const login = await heldAnswer();
      await Promise.all(requests.map(([target, req]) => login.send(req, target.startsWith('/') ? target : `${login.path}/${target}`)));
      const flow = await fuzz.t.database.db.selectFrom('login_flows').select('passed').where('uid', '=', login.refs.uid!).executeTakeFirst();
      expect(flow?.passed.filter((p) => p === 'federated').length ?? 0).toBeLessThanOrEqual(1);
    });

  fuzzIt('any answer, at the callback or the return route, answers below 500; only the real one, for the provider this login asked, passes the first stage', { runs: 14, msPerRun: 150 }, () => fuzz.t,
    fc.tuple(
      fc.constantFrom('/federation/acme/callback', '/federation/other/callback', 'return/federated', 'return/federated', 'return/password', 'return/sms-otp'),
      request({ method: mostlyGet, query: fc.oneof({ weight: 3, arbitrary: nearlyValid(real, answer) }, { weight: 1, arbitrary: pairs(answer) }) }),
    ),
    async ([target, req]) => {
      const { t } = fuzz;
      const login = await heldAnswer();
      await login.send(req, target.startsWith('/') ? target : `${login.path}/${target}`);
      const flow = await t.database.db.selectFrom('login_flows').select('passed').where('uid', '=', login.refs.uid!).executeTakeFirst();
      if (!flow?.passed.includes('federated')) return;
      // A parameter given twice is no answer at all.
      const once = (key: string) => {
        const given = req.query.filter(([k]) => k === key);
        return given.length === 1 ? given[0]![1] : undefined;
      };
      expect([once('state'), once('code')]).toEqual([ref('state'), ref('code')]);
      expect(target === '/federation/acme/callback' || (target === 'return/federated' && once('via') === 'acme')).toBe(true);
    });
});
