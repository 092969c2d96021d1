import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveGateway, GatewayConfigError } from '../../src/sms/gateway-settings.ts';
import { compileGateway } from '../../src/sms/request-template.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { gatewaySender } from '../support/gateway-sender.ts';

const NUMBER = '+447400123456';
const NASTY = 'a&b=c+d "q" \'s\' back\\slash $1 $& $ctx.num ünï 🙂\nline two\r\n@id.example #123456';

describe('the gateway request template', () => {
  let fake: FakeGateway;
  beforeAll(async () => { fake = await FakeGateway.start(); });
  beforeEach(() => { fake.received.length = 0; fake.reply = undefined; fake.basicAuth = undefined; });
  afterAll(() => fake.stop());

  it('sends the WSO2 seed template unchanged: form fields encoded one by one, the literal From keeps its plus', async () => {
    fake.basicAuth = { username: 'AC123', password: 'tok-secret-1' };
    const { sender } = gatewaySender({
      gateway: {
        url: `${fake.origin}/2010-04-01/Accounts/AC123/Messages.json`,
        method: 'POST',
        headers: `Authorization: Basic ${Buffer.from('AC123:tok-secret-1').toString('base64')}`,
        payload: 'Body=$ctx.msg&To=$ctx.num&From=+15005550006',
        successStatus: [201],
        messageIdPath: 'sid',
      },
    });
    const receipt = await sender.send({ to: NUMBER, text: NASTY, purpose: 'otp' });
    expect(receipt).toMatchObject({ status: 201, messageId: expect.stringMatching(/^SM/) });
    const req = fake.received[0]!;
    expect(req.method).toBe('POST');
    expect(req.url.pathname).toBe('/2010-04-01/Accounts/AC123/Messages.json');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.form.get('To')).toBe(NUMBER);
    expect(req.form.get('From')).toBe('+15005550006');
    expect(req.form.get('Body')).toBe(NASTY);
    expect([...req.form.keys()]).toEqual(['Body', 'To', 'From']);
  });

  it('fills in Twilio from the preset, with basic auth built by Keystep', async () => {
    fake.basicAuth = { username: 'AC999', password: 'twilio-token-xyz' };
    const { sender } = gatewaySender({ gateway: { preset: 'twilio', accountSid: 'AC999', authToken: 'twilio-token-xyz', from: '+15005550006', url: `${fake.origin}/2010-04-01/Accounts/AC999/Messages.json` } });
    const receipt = await sender.send({ to: NUMBER, text: NASTY, purpose: 'otp' });
    expect(receipt.messageId).toMatch(/^SM/);
    expect(Object.fromEntries(fake.received[0]!.form)).toEqual({ To: NUMBER, From: '+15005550006', Body: NASTY });
    const preset = resolveGateway({ preset: 'twilio', accountSid: 'AC1', authToken: 'tok', messagingServiceSid: 'MG1', timeoutMs: 1000 });
    expect(preset.url).toBe('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json');
    expect(preset.form).toEqual([['To', '$ctx.num'], ['MessagingServiceSid', 'MG1'], ['Body', '$ctx.msg']]);
    expect(preset.successStatus).toEqual([201]);
    expect(preset.messageIdPath).toBe('sid');
  });

  it('JSON-encodes placeholders inside a JSON payload', async () => {
    fake.reply = () => ({ status: 201, body: { id: 'mb-1' } });
    const { sender } = gatewaySender({
      gateway: {
        url: `${fake.origin}/messages`,
        headers: { Authorization: 'AccessKey live_key_123', 'Content-Type': 'application/json' },
        payload: '{"recipients":["$ctx.num"],"originator":"Keystep","body":"$ctx.msg","meta":{"code":"$ctx.otp","n":1}}',
        messageIdPath: 'id',
      },
    });
    expect((await sender.send({ to: NUMBER, text: NASTY, code: '048213', purpose: 'otp' })).messageId).toBe('mb-1');
    expect(fake.received[0]!.json).toEqual({ recipients: [NUMBER], originator: 'Keystep', body: NASTY, meta: { code: '048213', n: 1 } });
  });

  it('percent-encodes placeholders in a GET URL, and puts number and code in headers intact', async () => {
    fake.reply = () => ({ status: 200, body: 'OK' });
    const { sender } = gatewaySender({
      gateway: {
        url: `${fake.origin}/send?user=keystep&to=$ctx.num&text=$ctx.msg`,
        method: 'get',
        headers: 'X-To: $ctx.num, X-Code: $ctx.otp',
      },
    });
    await sender.send({ to: NUMBER, text: NASTY, code: 'A9JZ', purpose: 'otp' });
    const req = fake.received[0]!;
    expect(req.method).toBe('GET');
    expect(req.body).toBe('');
    expect(req.url.searchParams.get('to')).toBe(NUMBER);
    expect(req.url.searchParams.get('text')).toBe(NASTY);
    expect(req.url.searchParams.get('user')).toBe('keystep');
    expect(req.headers['x-to']).toBe(NUMBER);
    expect(req.headers['x-code']).toBe('A9JZ');
  });

  it('sends PUT too', async () => {
    fake.reply = () => ({ status: 202 });
    const { sender } = gatewaySender({ gateway: { url: `${fake.origin}/sms/$ctx.num`, method: 'Put', payload: 'text=$ctx.msg' } });
    await sender.send({ to: NUMBER, text: 'hi', purpose: 'otp' });
    expect(fake.received[0]!.method).toBe('PUT');
    expect(fake.received[0]!.url.pathname).toBe(`/sms/${encodeURIComponent(NUMBER)}`);
  });

  it('refuses, at start-up, templates that cannot be filled safely, saying why', () => {
    const problems = (gateway: Record<string, unknown>) => {
      try {
        compileGateway(resolveGateway({ timeoutMs: 1000, ...gateway }));
      } catch (err) {
        if (err instanceof GatewayConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems({ url: 'https://x.example/send', method: 'GET', payload: 'to=$ctx.num&text=$ctx.msg' })).toContain('sms.gateway.payload: a GET request has no body; put the placeholders in the URL');
    expect(problems({ url: 'https://x.example/send', contentType: 'json', payload: '{"to": $ctx.num, "text": "$ctx.msg"}' })[0]).toMatch(/valid JSON, with each placeholder inside a string/);
    expect(problems({ url: 'https://x.example/send', headers: 'X-Text: $ctx.msg', payload: 'to=$ctx.num' })[0]).toMatch(/X-Text uses \$ctx.msg/);
    expect(problems({ url: 'https://x.example/send', payload: 'to=$ctx.number&text=$ctx.msg' })).toContain('payload: unknown placeholder $ctx.number (use $ctx.num, $ctx.numDigits, $ctx.msg or $ctx.otp)');
    expect(problems({ url: 'https://x.example/send', payload: 'text=$ctx.msg' })[0]).toMatch(/never uses \$ctx.num/);
    expect(problems({ url: 'ftp://x.example/$ctx.num', payload: 'text=$ctx.msg' })[0]).toMatch(/http or https/);
    expect(problems({ url: 'https://x.example/send', headers: { 'Bad Name': 'v' }, payload: 'to=$ctx.num&t=$ctx.msg' })[0]).toMatch(/not a valid header name/);
    expect(problems({ preset: 'twilio' })).toEqual([
      'sms.gateway.accountSid: the twilio preset needs the Account SID',
      'sms.gateway.authToken: the twilio preset needs the Auth Token',
      'sms.gateway.from: the twilio preset needs either from or messagingServiceSid',
    ]);
    expect(problems({})).toEqual(['sms.gateway.url: the http sender needs the gateway URL (or preset: twilio)']);
    expect(problems({ url: 'https://x.example/s', basicAuth: { username: 'u', password: 'p' }, headers: 'Authorization: Basic eA==', payload: 'to=$ctx.num&t=$ctx.msg' })[0]).toMatch(/not both/);
  });
});
