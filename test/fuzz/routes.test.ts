import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { Browser } from '../support/browser.ts';
import { anyMethod, mostlyGet, percentEncode, request, text, value } from './arbitraries.ts';
import { useFuzzApp } from './fuzz-app.ts';
import { fuzzIt } from './harness.ts';
import { sendWithJar } from './logins.ts';

const METRICS_TOKEN = 'fuzz-metrics-token-0123456789abcdef0123';

/** Every route Keystep and the provider serve (with the development inbox of the console sender). */
const routes = [
  '/healthz', '/readyz', '/static/keystep.css', '/dev/sms',
  '/interaction/abc', '/interaction/abc/continue', '/interaction/abc/consent', '/interaction/abc/cancel',
  '/account', '/account/callback', '/account/phone', '/account/phone/verify', '/account/backup-codes/new', '/account/backup-codes',
  '/account/backup-codes/saved', '/account/sign-out-everywhere', '/account/signed-out',
  '/auth', '/auth/abc', '/token', '/me', '/token/revocation', '/session/end', '/session/end/confirm', '/session/end/success', '/jwks',
  '/.well-known/openid-configuration', '/request',
  '/federation/acme/callback', '/federation/acme/callback?state=abc.x&code=y', '/federation/acme/callback?state=acct_x.y', '/interaction/abc/return/federated',
  '/interaction/abc/return/password', '/interaction/abc/return/__proto__', '/account/federation/link', '/account/federation/return',
  '/metrics', '/sms/receipts/twilio', '/sms/receipts/twilio/x',
];

describe('fuzzing every route', () => {
  const fuzz = useFuzzApp({ devInbox: true, metricsToken: METRICS_TOKEN });
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

  // Only GET or HEAD of /metrics itself (the router ignores case and a trailing slash), with the token, is answered with the metrics.
  fuzzIt('/metrics, by any path around it, method and Authorization, gives the metrics only to the token, below 500', { runs: 30, msPerRun: 15 }, app,
    fc.tuple(
      fc.constantFrom('/metrics', '/metrics', '/metrics', '/metrics/', '//metrics', '/%2fmetrics', '/%2Fmetrics', '/METRICS', '/metrics;x', '/metrics%00', '/./metrics', '/x/../metrics', '/metrics%2f', '/%6detrics', '/metrics//', '/metrics.txt', '/static/../metrics'),
      request({ method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'HEAD') }, { weight: 1, arbitrary: anyMethod }), headers: { authorization: value(`Bearer ${METRICS_TOKEN}`, `Bearer ${METRICS_TOKEN}`, `bearer  ${METRICS_TOKEN} `, `Bearer ${METRICS_TOKEN}x`, `Basic ${METRICS_TOKEN}`, 'Bearer') } }),
    ),
    async ([path, req]) => {
      const answer = await send(req, path);
      if (!answer.body.toString('utf8').includes('keystep_')) return;
      expect(answer.status).toBe(200);
      expect(path.toLowerCase().replace(/\/$/, '')).toBe('/metrics');
      expect(['GET', 'HEAD']).toContain(req.method);
      expect(req.headers.authorization).toMatch(new RegExp(`^bearer +${METRICS_TOKEN} *$`, 'i'));
    });
});
