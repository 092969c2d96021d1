import fc from 'fast-check';
import { describe } from 'vitest';
import { Browser } from '../support/browser.ts';
import { anyMethod, mostlyGet, percentEncode, request, text } from './arbitraries.ts';
import { useFuzzApp } from './fuzz-app.ts';
import { fuzzIt } from './harness.ts';
import { sendWithJar } from './logins.ts';

/** Every route Keystep and the provider serve (with the development inbox of the console sender). */
const routes = [
  '/healthz', '/readyz', '/static/keystep.css', '/dev/sms',
  '/interaction/abc', '/interaction/abc/continue', '/interaction/abc/consent', '/interaction/abc/cancel',
  '/account', '/account/callback', '/account/phone', '/account/phone/verify', '/account/backup-codes/new', '/account/backup-codes',
  '/account/backup-codes/saved', '/account/sign-out-everywhere', '/account/signed-out',
  '/auth', '/auth/abc', '/token', '/me', '/token/revocation', '/session/end', '/session/end/confirm', '/session/end/success', '/jwks',
  '/.well-known/openid-configuration', '/request',
  '/federation/acme/callback', '/federation/acme/callback?state=abc.x&code=y', '/interaction/abc/return/federated', '/account/federation/link', '/account/federation/return',
];

describe('fuzzing every route', () => {
  const fuzz = useFuzzApp({ devInbox: true });
  const app = () => fuzz().t;
  const send = (req: Parameters<typeof sendWithJar>[2], path: string) => sendWithJar(fuzz().t, new Browser('never:').jar, req, path, {});

  fuzzIt('every route answers every method below 500', { runs: 20, msPerRun: 15 }, app,
    fc.tuple(fc.constantFrom(...routes), request({ method: anyMethod })),
    ([path, req]) => send(req, path));

  fuzzIt('health, readiness, the stylesheet and the development inbox answer any query and headers below 500', { runs: 14, msPerRun: 15 }, app,
    fc.tuple(fc.constantFrom('/healthz', '/readyz', '/static/keystep.css', '/dev/sms', '/static/', '/static/../package.json', '/static/keystep.css/'), request({ method: mostlyGet })),
    ([path, req]) => send(req, path));

  fuzzIt('any path answers below 500', { runs: 14, msPerRun: 15 }, app,
    fc.tuple(
      fc.array(fc.oneof(text.map((s) => percentEncode(s.slice(0, 200))), fc.constantFrom('..', '.', '', '%00', '%2e%2e', '%2F', 'static', 'account', 'interaction', 'auth', '%E0%A4%A', '%')), { minLength: 1, maxLength: 4 }),
      request({ method: mostlyGet }),
    ),
    ([segments, req]) => send(req, `/${segments.join('/')}`));
});
