import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { MAX_RECEIPT_BYTES } from '../../src/http/sms-receipt-routes.ts';
import { anyMethod, text } from './arbitraries.ts';
import { fuzzIt, sendChecked } from './harness.ts';

const TOKEN = 'twilio-auth-token-fuzz-0123';
const SECRET = 'generic-receipt-secret-fuzz-0123';
/** The one message the send log holds, so that some receipts name a message that exists. */
const sid = 'SM-real';

/** The receipts endpoints take anything: a 4xx, never a 500, and the send log stays as it was. */
describe('fuzzing the SMS receipts endpoints', () => {
  let t: TestApp;
  let fake: FakeGateway;
  beforeAll(async () => {
    fake = await FakeGateway.start();
    const template = { url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', successStatus: [201], messageIdPath: 'sid' };
    t = await startTestApp({
      overrides: {
        sms: {
          sender: 'http',
          gateways: [
            { name: 'twilio', preset: 'twilio', accountSid: 'AC1', authToken: TOKEN, from: '+15005550006', url: `${fake.origin}/Messages.json`, receipts: { format: 'twilio' } },
            { name: 'header', ...template, receipts: { format: 'generic', secret: SECRET, secretHeader: 'X-Secret', messageIdField: 'message.id', statusField: 'status', statusMap: { OK: 'delivered' } } },
            { name: 'path', ...template, receipts: { format: 'generic', secret: SECRET, messageIdField: 'id', statusField: 'status' } },
          ],
        },
      },
    });
    await t.database.db.insertInto('sms_messages').values({ at: new Date(), purpose: 'test', destination: '+44 •••• ••34 56', status: 'sent', gateway: 'header', provider_message_id: sid }).execute();
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  const paths = fc.oneof(fc.constant('/sms/receipts/header'), fc.constantFrom('/sms/receipts/twilio', '/sms/receipts/header', '/sms/receipts/path', `/sms/receipts/path/${SECRET}`, '/sms/receipts/path/x', '/sms/receipts/nobody', '/sms/receipts/%E0%A4', '/sms/receipts/header/x/y', '/SMS/receipts/twilio'));
  const field = (...known: string[]) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: text });
  const fields = fc.record({
    MessageSid: field(sid, 'SM-unknown'), MessageStatus: field('delivered', 'sent', 'receiving'),
    'message.id': field(sid), id: field(sid), status: field('OK', 'delivered', 'queued', '__proto__'),
  }, { requiredKeys: [] });
  // A body as a provider (or anyone) may frame it: a form, JSON of any shape, or bytes.
  const body = fc.oneof(
    // Right but for the fields above being anything, so that runs get past the first checks.
    { weight: 4, arbitrary: fc.tuple(field(sid), field('OK', 'delivered', 'sent')).map(([id, status]) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify({ message: { id }, status })) })) },
    fields.map((f) => ({ type: 'application/x-www-form-urlencoded', bytes: Buffer.from(new URLSearchParams(f).toString()) })),
    fields.map((f) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify({ message: { id: f['message.id'] }, ...f })) })),
    fc.jsonValue().map((v) => ({ type: 'application/json; charset=utf-8', bytes: Buffer.from(JSON.stringify(v) ?? '') })),
    fc.constantFrom('{', '{"message":', '[1,', 'nul', '"', '{"message":{"id":"SM-real"},"status":"OK"').map((v) => ({ type: 'application/json', bytes: Buffer.from(v) })),
    fc.tuple(fc.constantFrom(undefined, 'text/plain', 'application/json', 'application/x-www-form-urlencoded', '', 'multipart/form-data'), fc.uint8Array({ maxLength: 64 })).map(([type, bytes]) => ({ type, bytes: Buffer.from(bytes) })),
    // A right receipt padded to around the limit (MAX_RECEIPT_BYTES), and far past it.
    fc.constantFrom(MAX_RECEIPT_BYTES, MAX_RECEIPT_BYTES + 1, 1_000_000).map((size) => {
      const json = JSON.stringify({ message: { id: sid }, status: 'OK', pad: '' });
      return { type: 'application/json', bytes: Buffer.from(json.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, size - json.length))}"`)) };
    }),
  );
  const receipt = fc.record({
    path: paths,
    method: fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: anyMethod }),
    body,
    signature: fc.option(field('0/KCTR6DLpKmkAf8muzZqo1nDgQ='), { nil: undefined }),
    secret: fc.oneof({ weight: 2, arbitrary: fc.constant(SECRET) }, fc.constant(undefined), text),
    encoding: fc.option(fc.constantFrom('gzip', 'identity', 'br'), { nil: undefined, freq: 5 }),
  });

  fuzzIt('any request to a receipts endpoint answers below 500, and only an authentic one changes the send log', { runs: 150, msPerRun: 15 }, () => t,
    receipt,
    async (r) => {
      const headers: Record<string, string> = {};
      if (r.body.type !== undefined) headers['content-type'] = r.body.type;
      // Headers within Node's limit (16 KiB in all): past it Node itself answers 431 and drops the connection.
      if (r.signature !== undefined) headers['x-twilio-signature'] = r.signature.replace(/[^\u0020-\u007e]/g, '').slice(0, 4000);
      if (r.secret !== undefined) headers['x-secret'] = r.secret.replace(/[^\u0020-\u007e]/g, '').slice(0, 4000);
      if (r.encoding !== undefined) headers['content-encoding'] = r.encoding;
      await sendChecked(t, { method: r.method, path: r.path, headers, body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body.bytes });
      const row = await t.database.db.selectFrom('sms_messages').select('delivery').where('provider_message_id', '=', sid).executeTakeFirstOrThrow();
      if (row.delivery === null) return;
      // Only the provider that sent it, with its own secret, may have set a delivery state.
      expect([r.path, r.secret]).toEqual(['/sms/receipts/header', SECRET]);
      // Read as it came: never inflated, never past the limit.
      expect(r.encoding === undefined || r.encoding === 'identity').toBe(true);
      expect(r.body.bytes.length).toBeLessThanOrEqual(MAX_RECEIPT_BYTES);
      await t.database.db.updateTable('sms_messages').set({ delivery: null }).execute();
    });
});
