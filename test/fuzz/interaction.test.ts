import fc from 'fast-check';
import { describe } from 'vitest';
import { mostlyGet, nearlyValid, pairs, percentEncode, plainForm, ref, request, text, value, type Fields, type Value } from './arbitraries.ts';
import { useFuzzApp } from './fuzz-app.ts';
import { fuzzIt } from './harness.ts';
import { atCodePage, atConsentPage, atNoticePage, atPasswordPage, atPhoneCapture, freshUser, PASSWORD } from './logins.ts';

const steps = ['password', 'phone-capture', 'sms-otp', 'backup-code'];
const actions = ['verify', 'resend', 'backup', 'sms', 'number', 'change'];
/** Every field of every login form, each mostly with a value that form could really carry. */
const loginForm = (own: Fields): Fields => ({
  _csrf: value(ref('csrf'), ref('csrf'), ref('csrf'), ''),
  step: value(...steps),
  action: value(...actions),
  ...own,
});
/** The routes under one interaction: the step form, and the buttons of the notice and consent pages. */
const target = fc.constantFrom('', '', '', '', '/continue', '/consent', '/cancel');
/**
 * One to four requests in a row, so that one can open a state (a backup-code page) the next
 * fuzzes: each the page's own forms with a field or two changed, or its fields in any state.
 */
const sequence = (valid: Record<string, Value>[], fields: Fields) => {
  const form = fc.oneof({ weight: 3, arbitrary: nearlyValid(valid, loginForm(fields)) }, { weight: 1, arbitrary: pairs(loginForm(fields), ['_csrf', 'step']) });
  return fc.array(fc.tuple(target, request({ form })), { minLength: 1, maxLength: 4 });
};
const csrf = ref('csrf');
const codePageForms: Record<string, Value>[] = [
  { _csrf: csrf, step: 'sms-otp', code: ref('code') }, { _csrf: csrf, step: 'sms-otp', action: 'resend' }, { _csrf: csrf, step: 'sms-otp', action: 'backup' },
  { _csrf: csrf, step: 'backup-code', code: ref('backupCode') }, { _csrf: csrf, step: 'backup-code', action: 'sms' },
];

describe('fuzzing the login pages', () => {
  const fuzz = useFuzzApp();
  const app = () => fuzz().t;

  fuzzIt('the password page answers any form, method, type and encoding below 500', { runs: 14, msPerRun: 60 }, app,
    sequence([{ _csrf: csrf, step: 'password', username: ref('username'), password: PASSWORD }], { username: value(ref('username')), password: value(PASSWORD) }),
    async (requests) => {
      // An account of its own: what this run's wrong passwords throttle is no other run's concern.
      const { username } = await freshUser(fuzz().t);
      const login = await atPasswordPage(fuzz().t, fuzz().rp);
      login.refs.username = username;
      for (const [suffix, req] of requests) await login.send(req, `${login.path}${suffix}`);
    });

  fuzzIt('the password form takes any username and password: a page or a redirect, never a 500', { runs: 14, msPerRun: 40 }, app,
    fc.record({ username: text, password: text }),
    async ({ username, password }) => {
      const login = await atPasswordPage(fuzz().t, fuzz().rp);
      await login.send(plainForm({ _csrf: ref('csrf'), step: 'password', username, password }), login.path);
    },
    [{ username: `${'a'.repeat(255)}\u{1F600}`, password: PASSWORD }]);

  fuzzIt('the SMS code page (and the backup-code page it leads to) answers any form below 500', { runs: 14, msPerRun: 100 }, app,
    sequence(codePageForms, { code: value(ref('code'), ref('backupCode'), '000000', ' 1 2 3 ') }),
    async (requests) => {
      const login = await atCodePage(fuzz().t, fuzz().rp, fuzz().sms);
      for (const [suffix, req] of requests) await login.send(req, `${login.path}${suffix}`);
    });

  fuzzIt('the phone-capture page answers any number, code and button below 500', { runs: 10, msPerRun: 100 }, app,
    sequence([
      { _csrf: csrf, step: 'phone-capture', action: 'number', phone: ref('phone') }, { _csrf: csrf, step: 'phone-capture', action: 'number', phone: ref('phone') },
      { _csrf: csrf, step: 'phone-capture', code: ref('code') }, { _csrf: csrf, step: 'phone-capture', code: ref('code') },
      { _csrf: csrf, step: 'phone-capture', action: 'resend' }, { _csrf: csrf, step: 'phone-capture', action: 'change' },
      { _csrf: csrf, step: 'phone-capture', action: 'backup' }, { _csrf: csrf, step: 'backup-code', code: ref('backupCode') },
    ], {
      phone: value(ref('phone'), '07400 123456', '+442071838750', '+15005550006', '+44 7400 12345678901234'),
      code: value(ref('code'), ref('backupCode'), '000000'),
    }),
    async (requests) => {
      const login = await atPhoneCapture(fuzz().t, fuzz().rp, fuzz().sms);
      for (const [suffix, req] of requests) await login.send(req, `${login.path}${suffix}`);
    });

  fuzzIt('the consent page and the notice page answer any form below 500', { runs: 10, msPerRun: 150 }, app,
    fc.tuple(fc.constantFrom(atConsentPage, atNoticePage), sequence([{ _csrf: csrf }], {})),
    async ([at, requests]) => {
      const login = await at(fuzz().t, fuzz().consentRp, fuzz().sms);
      for (const [suffix, req] of requests) await login.send(req, `${login.path}${suffix}`);
    });

  fuzzIt('a burst of 50 simultaneous forms on one code page answers below 500 and leaves the tables whole', { runs: 4, msPerRun: 500, shrink: false }, app,
    fc.array(fc.tuple(target, request({ form: nearlyValid(codePageForms, { code: value(ref('code'), ref('backupCode'), '000000') }) })), { minLength: 50, maxLength: 50 }),
    async (requests) => {
      const login = await atCodePage(fuzz().t, fuzz().rp, fuzz().sms);
      await Promise.all(requests.map(([suffix, req]) => login.send(req, `${login.path}${suffix}`)));
    });

  fuzzIt('any uid, any suffix (the return route\'s too), any method and query under /interaction answers below 500', { runs: 20, msPerRun: 40 }, app,
    fc.tuple(
      fc.oneof(fc.constant(undefined), text.map((s) => percentEncode(s.slice(0, 300))), fc.constantFrom('%00', '..', '%2F', 'a'.repeat(65), '%E0%A4%A')),
      fc.constantFrom('', '/', '/continue', '/consent', '/cancel', '/x', '//', '/continue/',
        '/return/federated', '/return/password', '/return/sms-otp', '/return/', '/return/__proto__', '/return/federated/x', '/return/%00'),
      request({
        method: mostlyGet,
        // The return route's parameters (an upstream's answer) too: state, code, via, iss, error.
        query: { uid: value(ref('uid')), ui_locales: value('de'), state: value(ref('uid'), 'x.y'), code: value('c'), via: value('acme'), iss: value('http://127.0.0.1:9'), error: value('access_denied'), action: value('return') },
        form: loginForm({}),
      }),
    ),
    async ([uid, suffix, req]) => {
      const login = await atPasswordPage(fuzz().t, fuzz().rp);
      await login.send(req, `/interaction/${uid ?? login.refs.uid}${suffix}`);
    });
});
