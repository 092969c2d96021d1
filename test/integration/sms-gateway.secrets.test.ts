import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { gatewaySender } from '../support/gateway-sender.ts';

const NUMBER = '+447400123456';
const TOKEN = 'twilio-auth-token-7f3a9c';
const BASIC = Buffer.from(`AC42:${TOKEN}`).toString('base64');

describe('gateway secrets', () => {
  let fake: FakeGateway;
  let t: TestDatabase;
  beforeAll(async () => {
    fake = await FakeGateway.start();
    t = await createTestDatabase();
  });
  beforeEach(() => { fake.received.length = 0; fake.reply = undefined; fake.basicAuth = undefined; });
  afterAll(async () => {
    await fake.stop();
    await t.drop();
  });

  // The Twilio preset as environment variables, as an operator would set them for `keystep sms test`.
  const presetEnv = () => ({
    DATABASE_URL: t.url,
    KEYSTEP_SMS_SENDER: 'http',
    KEYSTEP_SMS_GATEWAY_PRESET: 'twilio',
    KEYSTEP_SMS_GATEWAY_ACCOUNT_SID: 'AC42',
    KEYSTEP_SMS_GATEWAY_AUTH_TOKEN: TOKEN,
    KEYSTEP_SMS_GATEWAY_FROM: '+15005550006',
  });

  const preset = () => ({ gateway: { preset: 'twilio', accountSid: 'AC42', authToken: TOKEN, from: '+15005550006', url: `${fake.origin}/2010-04-01/Accounts/AC42/Messages.json` } });

  it('keeps the auth header, tokens, the code and the full number out of the logs, even from an error body', async () => {
    // A gateway that echoes everything back in its error, as some do.
    fake.reply = (req) => ({ status: 400, body: { message: `bad request to ${req.form.get('To')} with ${req.headers.authorization} body ${req.form.get('Body')}` } });
    const { sender, logLines, records } = gatewaySender(preset());
    const text = 'Your code is 482913.\n\n@id.example #482913';
    await expect(sender.send({ to: NUMBER, text, code: '482913', purpose: 'otp' })).rejects.toThrow(/gateway answered 400/);
    fake.reply = undefined;
    fake.basicAuth = { username: 'AC42', password: TOKEN };
    await sender.send({ to: NUMBER, text, code: '482913', purpose: 'otp' });
    const all = logLines.join('\n') + JSON.stringify(records);
    expect(all).toContain('gateway answered 400');
    expect(all).toContain('+44 •••• ••34 56');
    for (const secret of [TOKEN, BASIC, NUMBER, '7400123456', '482913']) expect(all).not.toContain(secret);
    expect(logLines.some((l) => l.includes('"status":201'))).toBe(true);
    expect(logLines.some((l) => /"durationMs":\d+/.test(l))).toBe(true);
  });

  it('cuts the number in any form, the JSON-escaped text and secrets from long error bodies before shortening them', async () => {
    const text = 'Your code is 482913.\n\n@id.example #482913';
    fake.reply = () => ({ status: 400, body: `${'x'.repeat(1010)}${TOKEN} national 07400123456 digits 447400123456 json ${JSON.stringify(text)}` });
    const { sender, logLines, records } = gatewaySender(preset());
    await expect(sender.send({ to: NUMBER, text, code: '482913', purpose: 'otp' })).rejects.toThrow(/gateway answered 400/);
    const all = logLines.join('\n') + JSON.stringify(records);
    for (const secret of [TOKEN.slice(0, 8), '7400123456', '482913']) expect(all).not.toContain(secret);
  });

  it('prints the exact request with secrets redacted on `keystep sms test --dry-run`', async () => {
    const result = await runCli(['sms', 'test', '+44 7400 123456', '--dry-run'], presetEnv());
    expect(result.code).toBe(0);
    expect(result.stdout).toBe([
      'POST https://api.twilio.com/2010-04-01/Accounts/AC42/Messages.json',
      'Authorization: Basic [redacted]',
      'Content-Type: application/x-www-form-urlencoded',
      '',
      'To=%2B447400123456&From=%2B15005550006&Body=This+is+a+test+message+from+Keystep%3A+the+SMS+gateway+works.',
      '',
    ].join('\n'));
    expect(fake.received).toHaveLength(0);

    const secretInPayload = await runCli(['sms', 'test', '+447400123456', '--dry-run'], {
      KEYSTEP_SMS_SENDER: 'http',
      KEYSTEP_SMS_GATEWAY_URL: 'https://sms.example.com/send?user=k&password=url-password-1&to=$ctx.num',
      KEYSTEP_SMS_GATEWAY_PAYLOAD: 'api_secret=payload-secret-2&text=$ctx.msg',
      KEYSTEP_SMS_GATEWAY_HEADERS: 'X-Api-Key: header-key-3, X-Trace: visible',
    });
    expect(secretInPayload.code).toBe(0);
    for (const secret of ['url-password-1', 'payload-secret-2', 'header-key-3']) expect(secretInPayload.stdout).not.toContain(secret);
    expect(secretInPayload.stdout).toContain('X-Trace: visible');
    expect(secretInPayload.stdout).toContain('X-Api-Key: [redacted]');

    const inUrl = await runCli(['sms', 'test', '+447400123456', '--dry-run'], {
      KEYSTEP_SMS_SENDER: 'http', KEYSTEP_SMS_GATEWAY_URL: 'https://acct:url-credential-9@sms.example.com/send', KEYSTEP_SMS_GATEWAY_PAYLOAD: 'to=$ctx.num&text=$ctx.msg',
    });
    expect(inUrl.code).toBe(0);
    expect(inUrl.stdout).not.toContain('url-credential-9');
  });

  it('sends a test message with `keystep sms test` and prints the status and message id', async () => {
    fake.basicAuth = { username: 'AC42', password: TOKEN };
    const env = { ...presetEnv(), KEYSTEP_SMS_GATEWAY_URL: `${fake.origin}/2010-04-01/Accounts/AC42/Messages.json` };
    const sent = await runCli(['sms', 'test', NUMBER], env);
    expect(sent.stdout).toMatch(/^sent through default: status 201, message id SM0+1\n$/);
    expect(fake.received[0]!.form.get('Body')).toMatch(/test message/);
    const rows = await t.db.selectFrom('sms_messages').select(['purpose', 'status', 'provider_message_id']).execute();
    expect(rows).toEqual([{ purpose: 'test', status: 'sent', provider_message_id: expect.stringMatching(/^SM/) }]);

    fake.reply = () => ({ status: 500, body: { message: 'down' } });
    const failed = await runCli(['sms', 'test', NUMBER], env);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringMatching(/not sent \(default\): gateway answered 500/) });
    expect(await runCli(['sms', 'test', '+33612345678'], { ...env, KEYSTEP_SMS_ALLOWED_COUNTRIES: 'GB' })).toMatchObject({ code: 1, stderr: expect.stringMatching(/not allowed/) });
    expect(await runCli(['sms', 'test', NUMBER], { ...env, KEYSTEP_SMS_GATEWAY_PAYLOAD: '{"to": $ctx.num}', KEYSTEP_SMS_GATEWAY_CONTENT_TYPE: 'json' })).toMatchObject({ code: 1, stderr: expect.stringMatching(/valid JSON/) });
  });
});
