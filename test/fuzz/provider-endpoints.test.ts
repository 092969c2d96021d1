import fc from 'fast-check';
import { describe } from 'vitest';
import { POST_LOGOUT_URI, REDIRECT_URI } from '../support/app.ts';
import { Browser } from '../support/browser.ts';
import { anyMethod, authorizationFields, mostlyGet, mostlyPost, plainForm, plainGet, ref, request, value, type Fields } from './arbitraries.ts';
import { useFuzzApp } from './fuzz-app.ts';
import { fuzzIt } from './harness.ts';
import { sendWithJar, withTokens } from './logins.ts';

/** Client authentication, each way the token endpoints take it, mostly right. */
const clientAuth: Fields = { client_id: value('web-app', 'partner-app', 'keystep-account'), client_secret: value('web-app-secret-0123456789abcdef') };
const authorization: Fields = { authorization: value(ref('basic'), ref('bearer'), 'Basic', 'Basic Og==', `Basic ${Buffer.from('web-app:wrong').toString('base64')}`) };

describe('fuzzing the provider endpoints', () => {
  const fuzz = useFuzzApp();
  const app = () => fuzz().t;
  const signedIn = () => withTokens(fuzz().t, fuzz().rp, fuzz().sms, fuzz().basicAuth);

  fuzzIt('the token endpoint answers any grant, parameters and client authentication below 500', { runs: 14, msPerRun: 80 }, app,
    request({
      method: mostlyPost, headers: authorization,
      form: {
        grant_type: value('authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code',
          'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer'),
        code: value(ref('code')), redirect_uri: value(REDIRECT_URI), code_verifier: value(ref('verifier')), refresh_token: value(ref('refreshToken')),
        scope: value('openid', 'openid offline_access', 'phone'), resource: value('http://127.0.0.1:9/api'), device_code: value('x'), ...clientAuth,
      },
    }),
    async (req) => {
      const login = await signedIn();
      await login.send(req, '/token');
    });

  fuzzIt('userinfo answers any token, sent any way, by GET or POST, below 500', { runs: 10, msPerRun: 80 }, app,
    request({ method: fc.constantFrom('GET', 'POST', 'GET', 'POST', 'HEAD', 'PUT'), headers: authorization, query: { access_token: value(ref('accessToken')) }, form: { access_token: value(ref('accessToken')) } }),
    async (req) => {
      const login = await signedIn();
      await login.send(req, '/me');
    });

  fuzzIt('revocation answers any token, hint and client authentication below 500', { runs: 10, msPerRun: 80 }, app,
    request({
      method: mostlyPost, headers: authorization,
      form: { token: value(ref('accessToken'), ref('refreshToken'), ref('code')), token_type_hint: value('access_token', 'refresh_token', 'authorization_code', 'x'), ...clientAuth },
    }),
    async (req) => {
      const login = await signedIn();
      await login.send(req, '/token/revocation');
      // Whatever was revoked, the rest of the login still answers below 500.
      await login.send(plainGet({ authorization: login.refs.bearer! }), '/me');
      await login.send(plainForm({ grant_type: 'refresh_token', refresh_token: ref('refreshToken') }, { authorization: fuzz().basicAuth }), '/token');
    });

  const logout: Fields = {
    id_token_hint: value(ref('idToken'), 'a.b.c'), post_logout_redirect_uri: value(POST_LOGOUT_URI, 'http://127.0.0.1:9/elsewhere'), state: value('s'),
    client_id: value('web-app', 'partner-app'), logout_hint: value('x'), ui_locales: value('en'),
  };
  fuzzIt('RP-initiated logout and its confirmation answer any parameters below 500', { runs: 10, msPerRun: 100 }, app,
    fc.tuple(
      request({ method: fc.constantFrom('GET', 'POST', 'GET', 'POST', 'DELETE'), query: logout, form: logout }),
      request({ method: mostlyPost, form: { xsrf: value(ref('xsrf'), ref('xsrf'), ''), logout: value('yes', '') } }),
    ),
    async ([start, confirm]) => {
      const login = await signedIn();
      const page = await login.send(start, '/session/end');
      login.refs.xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body.toString())?.[1] ?? '';
      await login.send(confirm, '/session/end/confirm');
    });

  fuzzIt('discovery, the key set and pushed authorization requests answer anything below 500', { runs: 14, msPerRun: 30 }, app,
    fc.tuple(
      fc.constantFrom('/.well-known/openid-configuration', '/jwks', '/request', '/.well-known/oauth-authorization-server', '/token/introspection', '/reg', '/device/auth', '/backchannel'),
      fc.oneof(
        request({ method: mostlyGet }),
        request({ method: mostlyPost, headers: authorization, form: { ...authorizationFields({ clientId: 'web-app', redirectUri: REDIRECT_URI, codeChallenge: 'x'.repeat(43) }), ...clientAuth } }),
        request({ method: anyMethod.filter((m) => ['GET', 'HEAD', 'POST', 'OPTIONS'].includes(m)) }),
      ),
    ),
    async ([path, req]) => {
      await sendWithJar(fuzz().t, new Browser('never:').jar, req, path, { basic: fuzz().basicAuth, bearer: 'Bearer not-a-token' });
    });
});
