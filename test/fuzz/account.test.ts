import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe } from 'vitest';
import { REDIRECT_URI } from '../support/app.ts';
import { Browser } from '../support/browser.ts';
import { authorizationFields, mostlyGet, nearlyValid, plainForm, plainGet, ref, request, value } from './arbitraries.ts';
import { useFuzzApp } from './fuzz-app.ts';
import { fuzzIt } from './harness.ts';
import { atAccountPage, sendWithJar, signInFrom } from './logins.ts';

const forms = fc.constantFrom('/account/phone', '/account/phone/verify', '/account/backup-codes', '/account/backup-codes/saved', '/account/sign-out-everywhere', '/account/federation/link');
const pages = fc.constantFrom('/account', '/account/phone', '/account/phone/verify', '/account/backup-codes/new', '/account/backup-codes', '/account/signed-out', '/account/callback', '/account/federation/return');
const query = {
  m: value('PHONE_CHANGED', 'SIGNED_OUT_EVERYWHERE', 'NOT_A_CODE', '__proto__', 'toString'), n: value('1', '9999', '-1', '1e3'), state: value('x', 'acct_x.y'), code: value('x'), error: value('access_denied'),
  via: value('acme'), iss: value('http://127.0.0.1:9'),
};
const form = {
  _csrf: value(ref('csrf'), ref('csrf'), ''), phone: value(ref('newPhone'), ref('phone'), '+442071838750', '07400 123456'), code: value(ref('newCode'), '000000'),
  provider: value('acme', '__proto__'),
};

const CHALLENGE = createHash('sha256').update('v'.repeat(43)).digest('base64url');
const valid = { client_id: 'web-app', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', state: 's', nonce: 'n', code_challenge: CHALLENGE, code_challenge_method: 'S256' };

describe('fuzzing the account page', () => {
  const fuzz = useFuzzApp();
  const app = () => fuzz().t;

  fuzzIt('signed in, the account pages and forms answer any request below 500', { runs: 10, msPerRun: 120 }, app,
    fc.array(fc.oneof(fc.tuple(forms, request({ form, query })), fc.tuple(pages, request({ method: mostlyGet, query }))), { minLength: 1, maxLength: 3 }),
    async (requests) => {
      const account = await atAccountPage(fuzz().t, fuzz().sms);
      for (const [path, req] of requests) {
        await account.send(req, path);
        // The code sent to a new number, once there is one: the next form may carry it.
        const sent = fuzz().sms.to(account.refs.newPhone!).at(-1);
        account.refs.newCode = sent ? fuzz().sms.lastCode(account.refs.newPhone!) : '';
      }
    });

  fuzzIt('after a login started by any authorization request, "sign out of all sessions" answers below 500', { runs: 7, msPerRun: 150 }, app,
    request({ method: fc.constant('GET'), query: nearlyValid(valid, authorizationFields({ clientId: valid.client_id, redirectUri: REDIRECT_URI, codeChallenge: CHALLENGE })) }),
    async (req) => {
      const other = new Browser('never:');
      await signInFrom(fuzz().t, other.jar, await sendWithJar(fuzz().t, other.jar, req, '/auth', {}), fuzz().sms);
      const account = await atAccountPage(fuzz().t, fuzz().sms);
      await account.send(plainForm({ _csrf: ref('csrf') }), '/account/sign-out-everywhere');
    },
    // A nonce of NUL is kept in the authorization code's row.
    [{ ...plainGet(), query: [...Object.entries(valid).filter(([k]) => k !== 'nonce'), ['nonce', '\u0000']] }]);
});
