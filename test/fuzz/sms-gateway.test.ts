import fc from 'fast-check';
import { afterAll, beforeAll, describe } from 'vitest';
import { FakeGateway, type Reply } from '../support/fake-gateway.ts';
import { plainForm, ref, text } from './arbitraries.ts';
import { startFuzzApp, type FuzzApp } from './fuzz-app.ts';
import { fuzzIt } from './harness.ts';
import { atPasswordPage, freshUser, PASSWORD } from './logins.ts';

/** Anything an SMS provider may answer: any status, and a body of any shape or none. */
const reply: fc.Arbitrary<Reply> = fc.record({
  status: fc.constantFrom(200, 201, 201, 202, 204, 301, 400, 401, 404, 409, 429, 500, 502, 503),
  body: fc.oneof(
    fc.constant({ sid: 'SM0123' }),
    fc.record({ sid: fc.oneof(text, fc.constant(null), fc.integer(), fc.constant({}), fc.constant([])) }, { requiredKeys: [] }),
    text,
    fc.constantFrom('', 'null', '[]', '{', '<html>bad gateway</html>', '"sid"', '{"sid":"\u0000"}', JSON.stringify({ message: 'x'.repeat(20_000) })),
    fc.jsonValue(),
  ),
});

describe('fuzzing the answers of the SMS gateway', () => {
  let f: FuzzApp;
  let gateway: FakeGateway;
  const app = () => f.t;
  beforeAll(async () => {
    gateway = await FakeGateway.start();
    f = await startFuzzApp({ gateway: { preset: 'twilio', accountSid: 'AC1', authToken: 'token-0123', from: '+15005550006', url: `${gateway.origin}/Messages.json` } });
  });
  afterAll(async () => {
    await f.t.close();
    await gateway.stop();
  });

  fuzzIt('whatever the gateway answers, the code page and "send a new code" answer below 500, and no SMS stays reserved', { runs: 10, msPerRun: 60 }, app,
    fc.tuple(reply, reply),
    async ([first, second]) => {
      const user = await freshUser(f.t, { phone: true });
      const login = await atPasswordPage(f.t, f.rp);
      gateway.reply = () => first;
      await login.send(plainForm({ _csrf: ref('csrf'), step: 'password', username: user.username, password: PASSWORD }), login.path);
      gateway.reply = () => second;
      await login.send(plainForm({ _csrf: ref('csrf'), step: 'sms-otp', action: 'resend' }), login.path);
    });
});
