import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { REDIRECT_URI } from '../support/app.ts';
import { Browser } from '../support/browser.ts';
import { authorizationFields, nearlyValid, plainForm, request, type Fields } from './arbitraries.ts';
import { useFuzzApp } from './fuzz-app.ts';
import { fuzzIt, sendChecked } from './harness.ts';
import { sendWithJar, signInFrom } from './logins.ts';

const VERIFIER = 'a-fixed-pkce-verifier-for-the-fuzz-tests-0123456789abcdefghijklmnop';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const valid = {
  client_id: 'web-app', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid profile', state: 'a-state', nonce: 'a-nonce',
  code_challenge: CHALLENGE, code_challenge_method: 'S256',
};
const fields: Fields = authorizationFields({ clientId: valid.client_id, redirectUri: valid.redirect_uri, codeChallenge: CHALLENGE });

describe('fuzzing authorization requests', () => {
  const fuzz = useFuzzApp();
  const app = () => fuzz().t;

  fuzzIt('any authorization request, by GET or POST, and the pages it leads to answer below 500; a form_post answer stays escaped', { runs: 20, msPerRun: 30 }, app,
    request({ method: fc.constantFrom('GET', 'GET', 'POST', 'HEAD'), query: fields, form: fields }),
    async (req) => {
      const landing = await sendWithJar(fuzz().t, new Browser('never:').jar, req, '/auth', {});
      const html = landing.body.toString('utf8');
      if (!html.includes('id="form-post"')) return;
      // Keystep's page of the provider's answer (a hostile state in it): its own script only, and
      // every value of its form in quotes that nothing sent could close.
      expect(html.match(/<script/g)).toHaveLength(1);
      for (const input of html.match(/<input [^>]*>/g) ?? []) expect(input).toMatch(/^<input type="hidden" name="[a-z_]+" value="[^"<>]*">$/);
    },
    [{ ...plainForm({}), method: 'GET', query: [...Object.entries(valid), ['response_mode', 'form_post'], ['prompt', 'none']].filter(([k]) => k !== 'state').concat([['state', '"><script>x</script>&amp;&#39;\u0000\ud800']]) as [string, string][] }]);

  fuzzIt('a login started by any authorization request signs in, and its code exchanges, below 500', { runs: 14, msPerRun: 80 }, app,
    request({ method: fc.constant('GET'), query: nearlyValid(valid, fields) }),
    async (req) => {
      const browser = new Browser('never:');
      const back = await signInFrom(fuzz().t, browser.jar, await sendWithJar(fuzz().t, browser.jar, req, '/auth', {}), fuzz().sms);
      const code = back?.searchParams.get('code');
      if (!code) return;
      const exchange = plainForm({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER }, { authorization: fuzz().basicAuth });
      const tokens = await sendWithJar(fuzz().t, browser.jar, exchange, '/token', {});
      const accessToken = (JSON.parse(tokens.body.toString()) as { access_token?: string }).access_token;
      if (accessToken) await sendChecked(fuzz().t, { method: 'GET', path: '/me', headers: { authorization: `Bearer ${accessToken}` } });
    });
});
