import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { twilioSignature } from '../../src/sms/receipts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { TestClock } from '../support/sms.ts';

const TWILIO_TOKEN = 'twilio-auth-token-0123456789';
const HEADER_SECRET = 'backup-receipt-secret-0123456789';
const PATH_SECRET = 'path-receipt-secret-0123456789ab';

it("Twilio's signature is the one its documentation works through", () => {
  expect(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', [
    ['To', '+18005551212'], ['CallSid', 'CA1234567890ABCDE'], ['Digits', '1234'], ['From', '+12349013030'], ['Caller', '+12349013030'],
  ])).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
});

/** Delivery receipts from providers (fakes on loopback) during real logins. */
describe('SMS delivery receipts', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let twilio: FakeGateway;
  let backup: FakeGateway;
  let pathed: FakeGateway;
  const clock = new TestClock();

  beforeAll(async () => {
    [twilio, backup, pathed] = await Promise.all([FakeGateway.start(), FakeGateway.start(), FakeGateway.start()]);
    const template = (fake: FakeGateway) => ({ url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', successStatus: [201], messageIdPath: 'sid', timeoutMs: 200 });
    t = await startTestApp({
      clock,
      overrides: {
        smsOtp: { resendCooldownSeconds: 30 },
        sms: {
          sender: 'http',
          gateways: [
            { name: 'twilio', preset: 'twilio', accountSid: 'AC0123', authToken: TWILIO_TOKEN, from: '+15005550006', url: `${twilio.origin}/Messages.json`, timeoutMs: 200, receipts: { format: 'twilio' } },
            { name: 'backup', ...template(backup), receipts: { format: 'generic', secret: HEADER_SECRET, secretHeader: 'X-Receipt-Secret', messageIdField: 'message.id', statusField: 'message.state', statusMap: { DELIVRD: 'delivered', UNDELIV: 'undelivered' } } },
            { name: 'pathed', ...template(pathed), countries: ['FR'], receipts: { format: 'generic', secret: PATH_SECRET, messageIdField: 'id', statusField: 'status' } },
          ],
        },
      },
    });
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  beforeEach(async () => {
    // The fakes number their message ids from 1 again: one test's ids are not another's.
    await t.database.db.deleteFrom('sms_messages').execute();
    clock.advance(7200);
    for (const fake of [twilio, backup, pathed]) {
      fake.reply = undefined;
      fake.received.length = 0;
    }
  });
  afterAll(async () => {
    await t.close();
    for (const fake of [twilio, backup, pathed]) await fake.stop();
  });

  let users = 0;
  async function newUser(phone = `+4474006${String(++users).padStart(5, '0')}`) {
    const name = `receipts${users}-${phone.slice(-4)}`;
    await t.addUser(name, `${name}-long-password`, phone);
    return { name, password: `${name}-long-password`, phone };
  }

  const rows = () => t.database.db.selectFrom('sms_messages').select(['gateway', 'status', 'provider_message_id', 'delivery']).orderBy('at').orderBy('id').execute();
  const url = (gateway: string) => `${t.issuer}/sms/receipts/${gateway}`;

  // Signed here independently of Keystep's code: HMAC-SHA1 of the URL and the sorted fields.
  function signed(params: Record<string, string>, options: { token?: string; signedUrl?: string } = {}) {
    const data = (options.signedUrl ?? url('twilio')) + Object.keys(params).sort().map((k) => k + params[k]).join('');
    return createHmac('sha1', options.token ?? TWILIO_TOKEN).update(data).digest('base64');
  }
  async function twilioReceipt(sid: string, status: string, options: { token?: string; signedUrl?: string; headers?: Record<string, string>; postTo?: string } = {}) {
    const params = { AccountSid: 'AC0123', MessageSid: sid, MessageStatus: status };
    const response = await fetch(options.postTo ?? url('twilio'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signed(params, options), ...options.headers },
      body: new URLSearchParams(params).toString(),
    });
    return { status: response.status, text: await response.text() };
  }
  async function post(path: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>) {
    const response = await fetch(`${t.issuer}${path}`, { method: 'POST', headers, body });
    return { status: response.status, text: await response.text() };
  }

  async function sentThroughTwilio() {
    const user = await newUser();
    const login = await toSecondStep(rp, user.name, user.password);
    const row = (await rows()).at(-1)!;
    expect(row).toMatchObject({ gateway: 'twilio', status: 'sent' });
    return { user, login, sid: row.provider_message_id! };
  }
  const deliveryOf = async (sid: string) => (await t.database.db.selectFrom('sms_messages').select('delivery').where('provider_message_id', '=', sid).executeTakeFirstOrThrow()).delivery;

  it('asks Twilio to send its receipts to the issuer, and records a signed one', async () => {
    const { sid } = await sentThroughTwilio();
    expect(twilio.received[0]!.form.get('StatusCallback')).toBe(url('twilio'));
    expect(await twilioReceipt(sid, 'sent')).toMatchObject({ status: 200 });
    expect(await deliveryOf(sid)).toBe('sent');
    expect(await twilioReceipt(sid, 'delivered')).toMatchObject({ status: 200 });
    expect(await deliveryOf(sid)).toBe('delivered');
  });

  it('refuses a forged receipt and changes nothing: a wrong token, another URL, a changed field, no signature', async () => {
    const { sid } = await sentThroughTwilio();
    expect(await twilioReceipt(sid, 'undelivered', { token: 'not-the-token' })).toMatchObject({ status: 403 });
    expect(await twilioReceipt(sid, 'undelivered', { signedUrl: 'https://elsewhere.example/sms/receipts/twilio' })).toMatchObject({ status: 403 });
    const params = { MessageSid: sid, MessageStatus: 'delivered' };
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(await post('/sms/receipts/twilio', new URLSearchParams({ ...params, MessageStatus: 'undelivered' }).toString(), { ...headers, 'x-twilio-signature': signed(params) })).toMatchObject({ status: 403 });
    expect(await post('/sms/receipts/twilio', new URLSearchParams(params).toString(), headers)).toMatchObject({ status: 403 });
    expect(await deliveryOf(sid)).toBeNull();
  });

  it('checks the signature against the issuer, not the Host header a proxy passes on', async () => {
    const { sid } = await sentThroughTwilio();
    // Reached by another name (Host: localhost), as behind a proxy: the URL signed is still the issuer's.
    const postTo = url('twilio').replace('127.0.0.1', 'localhost');
    expect(await twilioReceipt(sid, 'delivered', { postTo, headers: { 'x-forwarded-host': 'internal.example', 'x-forwarded-proto': 'https' } })).toMatchObject({ status: 200 });
    expect(await deliveryOf(sid)).toBe('delivered');
  });

  it('a receipt for a message no gateway sent (or another gateway sent) is a 404 and changes nothing', async () => {
    const { sid } = await sentThroughTwilio();
    expect(await twilioReceipt('SM-never-sent', 'delivered')).toMatchObject({ status: 404 });
    const backupHeaders = { 'content-type': 'application/json', 'x-receipt-secret': HEADER_SECRET };
    expect(await post('/sms/receipts/backup', JSON.stringify({ message: { id: sid, state: 'DELIVRD' } }), backupHeaders)).toMatchObject({ status: 404 });
    expect(await deliveryOf(sid)).toBeNull();
  });

  it('receipts in any order and any number of times leave the latest state: a late "sent" never undoes "delivered"', async () => {
    const { sid } = await sentThroughTwilio();
    for (const [status, stored] of [['delivered', 'delivered'], ['sent', 'delivered'], ['queued', 'delivered'], ['undelivered', 'delivered'], ['delivered', 'delivered']] as const) {
      expect((await twilioReceipt(sid, status)).status).toBe(200);
      expect(await deliveryOf(sid)).toBe(stored);
    }
    const other = await sentThroughTwilio();
    expect(await twilioReceipt(other.sid, 'undelivered')).toEqual({ status: 200, text: 'recorded\n' });
    expect(await twilioReceipt(other.sid, 'undelivered')).toEqual({ status: 200, text: 'already recorded\n' });
    expect(await twilioReceipt(other.sid, 'failed')).toEqual({ status: 200, text: 'already recorded\n' });
    expect(await deliveryOf(other.sid)).toBe('undelivered');
  });

  it('a receipt never changes what a send cost: the budgets count the send log status, not the delivery', async () => {
    const { sid } = await sentThroughTwilio();
    await twilioReceipt(sid, 'failed');
    expect(await t.database.db.selectFrom('sms_messages').select(['status', 'delivery']).where('provider_message_id', '=', sid).executeTakeFirstOrThrow()).toEqual({ status: 'sent', delivery: 'failed' });
  });

  it('the code page says when the code was not delivered, and the new code goes through another provider', async () => {
    const { user, login, sid } = await sentThroughTwilio();
    expect(alertText(pageOf(login.next).html)).toBeUndefined();
    expect(await twilioReceipt(sid, 'undelivered')).toMatchObject({ status: 200 });
    let page = pageOf(await login.attempt.browser.visit(pageOf(login.next).url));
    expect(alertText(page.html)).toMatch(/^The text message with your code was not delivered/);
    expect(page.html).toContain('Send a new code');
    clock.advance(30);
    page = pageOf(await submitStep(login.attempt.browser, page, 'sms-otp', { action: 'resend' }));
    expect(alertText(page.html)).toMatch(/^We sent a new code/);
    expect([twilio.to(user.phone).length, backup.to(user.phone).length]).toEqual([1, 1]);
    expect((await rows()).slice(-2).map((r) => [r.gateway, r.delivery])).toEqual([['twilio', 'undelivered'], ['backup', null]]);
    // The page no longer says "not delivered": that was the old code.
    expect(alertText(pageOf(await login.attempt.browser.visit(page.url)).html)).toBeUndefined();
    const tokens = await exchange(rp, login.attempt, callbackOf(await submitStep(login.attempt.browser, page, 'sms-otp', { code: backup.lastCode(user.phone) })));
    expect(tokens.claims()!.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('the page of a number typed at login says so too: the code may never have reached that number', async () => {
    const name = `capture${++users}`;
    await t.addUser(name, `${name}-long-password`);
    const phone = '+447400191919';
    const { attempt, next } = await toSecondStep(rp, name, `${name}-long-password`);
    let page = pageOf(await submitStep(attempt.browser, pageOf(next), 'phone-capture', { action: 'number', phone }));
    const sid = (await rows()).at(-1)!.provider_message_id!;
    expect(await twilioReceipt(sid, 'failed')).toMatchObject({ status: 200 });
    page = pageOf(await attempt.browser.visit(page.url));
    expect(alertText(page.html)).toMatch(/^The text message with your code was not delivered/);
    clock.advance(30);
    page = pageOf(await submitStep(attempt.browser, page, 'phone-capture', { action: 'resend' }));
    expect(backup.to(phone)).toHaveLength(1);
    await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, page, 'phone-capture', { code: backup.lastCode(phone) })));
  });

  it('a generic provider: the secret in a header, the id and status where the settings say, its own status words', async () => {
    twilio.reply = () => ({ status: 429 });
    const user = await newUser();
    await toSecondStep(rp, user.name, user.password);
    const { provider_message_id: id, gateway } = (await rows()).at(-1)!;
    expect(gateway).toBe('backup');
    const json = (state: string, secret = HEADER_SECRET) => post('/sms/receipts/backup', JSON.stringify({ message: { id, state } }), { 'content-type': 'application/json', 'x-receipt-secret': secret });
    expect(await json('DELIVRD', 'backup-receipt-secret-0123456780')).toMatchObject({ status: 403 });
    expect(await json('DELIVRD', '')).toMatchObject({ status: 403 });
    expect(await deliveryOf(id!)).toBeNull();
    expect(await json('UNDELIV')).toMatchObject({ status: 200 });
    expect(await json('DELIVRD')).toMatchObject({ status: 200 });
    expect(await deliveryOf(id!)).toBe('delivered');
    // A form works as well: the fields are then form fields of those names.
    expect(await post('/sms/receipts/backup', new URLSearchParams({ 'message.id': id!, 'message.state': 'sent' }).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-receipt-secret': HEADER_SECRET })).toMatchObject({ status: 200 });
    expect(await deliveryOf(id!)).toBe('delivered');
    // The secret goes where the settings put it: in the path, this provider's is a wrong address.
    expect(await post(`/sms/receipts/backup/${HEADER_SECRET}`, JSON.stringify({ message: { id, state: 'DELIVRD' } }), { 'content-type': 'application/json' })).toMatchObject({ status: 404 });
  });

  it('a generic provider with the secret in the path', async () => {
    // The French provider comes last: the others, which serve every country, must pass first.
    twilio.reply = () => ({ status: 429 });
    backup.reply = () => ({ status: 429 });
    const user = await newUser('+33612345678');
    await toSecondStep(rp, user.name, user.password);
    const { provider_message_id: id, gateway } = (await rows()).at(-1)!;
    expect(gateway).toBe('pathed');
    const json = { 'content-type': 'application/json' };
    expect(await post('/sms/receipts/pathed/wrong-secret', JSON.stringify({ id, status: 'delivered' }), json)).toMatchObject({ status: 403 });
    expect(await post('/sms/receipts/pathed', JSON.stringify({ id, status: 'delivered' }), json)).toMatchObject({ status: 404 });
    expect(await deliveryOf(id!)).toBeNull();
    expect(await post(`/sms/receipts/pathed/${PATH_SECRET}`, JSON.stringify({ id, status: 'delivered' }), json)).toMatchObject({ status: 200 });
    expect(await deliveryOf(id!)).toBe('delivered');
    expect(t.logLines.join('')).not.toContain(PATH_SECRET);
  });

  it('a provider that hangs up in the middle of its receipt: the secret in the path is not logged, and no server error either', async () => {
    const logged = t.logLines.length;
    const { hostname, port } = new URL(t.issuer);
    const socket = connect(Number(port), hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    await new Promise((resolve) => socket.write(`POST /sms/receipts/pathed/${PATH_SECRET} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":"`, resolve));
    socket.destroy();
    await vi.waitFor(() => expect(t.logLines.slice(logged).some((l) => /sms receipt not read whole|request failed|database unavailable/.test(l))).toBe(true));
    const lines = t.logLines.slice(logged);
    expect(lines.join('\n')).not.toContain(PATH_SECRET);
    // Nothing for an operator to act on: not a server error, not the database.
    expect(lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40)).toEqual([]);
  });

  it('any other shape of request is a 4xx with a message, never a 500, and changes nothing', async () => {
    const { sid } = await sentThroughTwilio();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const backupJson = { 'content-type': 'application/json', 'x-receipt-secret': HEADER_SECRET };
    const cases: [string, string | Uint8Array<ArrayBuffer>, Record<string, string>, number][] = [
      ['/sms/receipts/nobody', 'MessageSid=x&MessageStatus=sent', form, 404],
      ['/sms/receipts/twilio', JSON.stringify({ MessageSid: sid, MessageStatus: 'delivered' }), { 'content-type': 'application/json', 'x-twilio-signature': 'x' }, 403],
      ['/sms/receipts/twilio', 'MessageSid=x', { 'content-type': 'text/plain' }, 415],
      ['/sms/receipts/twilio', 'x'.repeat(17 * 1024), form, 413],
      ['/sms/receipts/twilio', 'a=b', { ...form, 'content-encoding': 'gzip' }, 415],
      ['/sms/receipts/twilio', new Uint8Array([0xff, 0xfe, 0x00]), form, 400],
      ['/sms/receipts/backup', '{"message":', backupJson, 400],
      ['/sms/receipts/backup', 'null', backupJson, 400],
      ['/sms/receipts/backup', '[1,2,3]', backupJson, 400],
      ['/sms/receipts/backup', JSON.stringify({ message: { id: { nested: true }, state: 'DELIVRD' } }), backupJson, 400],
      ['/sms/receipts/backup', JSON.stringify({ message: { id: sid } }), backupJson, 400],
      ['/sms/receipts/backup', JSON.stringify({ message: { id: sid, state: '__proto__' } }), backupJson, 422],
      ['/sms/receipts/backup', JSON.stringify({ message: { id: 'x'.repeat(300), state: 'DELIVRD' } }), backupJson, 400],
      ['/sms/receipts/backup', JSON.stringify({ message: { id: 'a\u0000b', state: 'DELIVRD' } }), backupJson, 400],
      ['/sms/receipts/%E0%A4%A', 'a=b', form, 404],
    ];
    for (const [path, body, headers, status] of cases) {
      const answer = await post(path, body, headers);
      expect([path, answer.status]).toEqual([path, status]);
      expect(answer.text.trim().length).toBeGreaterThan(0);
    }
    // Signed, but with a status Keystep does not know, or none.
    expect(await twilioReceipt(sid, 'receiving')).toMatchObject({ status: 422 });
    expect((await twilioReceipt(sid, '')).status).toBe(400);
    expect(await deliveryOf(sid)).toBeNull();
    expect((await fetch(url('twilio'))).status).toBe(405);
  });
});
