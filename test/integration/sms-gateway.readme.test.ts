import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeGateway, type ReceivedRequest } from '../support/fake-gateway.ts';
import { gatewaySender } from '../support/gateway-sender.ts';

const NUMBER = '+447400123456';
const TEXT = 'Your Keystep code is 482913. It expires in 5 minutes. Don\'t share it.\n\n@id.example.com #482913';

/** The gateway templates exactly as the README shows them. */
function readmeTemplates(): Map<string, { sms: { gateway: Record<string, unknown> } }> {
  const readme = readFileSync('README.md', 'utf8');
  const found = new Map<string, { sms: { gateway: Record<string, unknown> } }>();
  for (const m of readme.matchAll(/<!-- gateway-template: ([\w-]+) -->\n```yaml\n([\s\S]*?)```/g)) found.set(m[1]!, parse(m[2]!));
  return found;
}

describe('the gateway templates in the README', () => {
  let fake: FakeGateway;
  const templates = readmeTemplates();
  beforeAll(async () => { fake = await FakeGateway.start(); });
  beforeEach(() => { fake.received.length = 0; fake.reply = undefined; fake.basicAuth = undefined; });
  afterAll(() => fake.stop());

  /** Sends through a README template with only the provider's origin pointed at the fake. */
  async function sendWith(name: string): Promise<{ received: ReceivedRequest; messageId?: string }> {
    const { sms } = templates.get(name)!;
    const gateway = { ...sms.gateway };
    const url = typeof gateway.url === 'string' ? new URL(gateway.url.replace(/\$ctx/g, '%24ctx')) : new URL('https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Messages.json');
    gateway.url = `${fake.origin}${decodeURIComponent(url.pathname)}${url.search.replace(/%24ctx/g, '$ctx')}`;
    const { sender } = gatewaySender({ ...sms, gateway });
    const receipt = await sender.send({ to: NUMBER, text: TEXT, code: '482913', purpose: 'otp' });
    return { received: fake.received.at(-1)!, messageId: receipt.messageId };
  }

  it('lists the five templates', () => {
    expect([...templates.keys()]).toEqual(['twilio-wso2', 'twilio-preset', 'vonage', 'messagebird', 'get-url']);
  });

  it('Twilio as WSO2 had it', async () => {
    fake.basicAuth = { username: 'AC0123456789abcdef', password: 'auth-token' };
    const { received, messageId } = await sendWith('twilio-wso2');
    expect(messageId).toMatch(/^SM/);
    expect(Object.fromEntries(received.form)).toEqual({ Body: TEXT, To: NUMBER, From: '+15005550006' });
  });

  it('Twilio with the preset', async () => {
    fake.basicAuth = { username: 'AC0123456789abcdef', password: 'auth-token' };
    const { received, messageId } = await sendWith('twilio-preset');
    expect(messageId).toMatch(/^SM/);
    expect(received.url.pathname).toBe('/2010-04-01/Accounts/AC0123456789abcdef/Messages.json');
    expect(Object.fromEntries(received.form)).toEqual({ To: NUMBER, From: '+15005550006', Body: TEXT });
  });

  it('Vonage', async () => {
    fake.reply = (req) => ({ status: 200, body: { 'message-count': '1', messages: [{ to: req.form.get('to'), 'message-id': '0A0000000123ABCD1', status: '0' }] } });
    const { received, messageId } = await sendWith('vonage');
    expect(messageId).toBe('0A0000000123ABCD1');
    expect(Object.fromEntries(received.form)).toEqual({ api_key: 'abcd1234', api_secret: 'vonage-secret', from: 'Keystep', to: '447400123456', text: TEXT });
  });

  it('MessageBird', async () => {
    fake.reply = (req) => (req.headers.authorization === 'AccessKey live-access-key' ? { status: 201, body: { id: 'e8077d803532c0b5937c639b60216938' } } : { status: 401 });
    const { received, messageId } = await sendWith('messagebird');
    expect(messageId).toBe('e8077d803532c0b5937c639b60216938');
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.json).toEqual({ recipients: [NUMBER], originator: 'Keystep', body: TEXT });
  });

  it('a GET-URL gateway', async () => {
    fake.reply = () => ({ status: 200, body: 'OK 1234' });
    const { received } = await sendWith('get-url');
    expect(received.method).toBe('GET');
    expect(Object.fromEntries(received.url.searchParams)).toEqual({ user: 'keystep', password: 'gateway-password', to: NUMBER, text: TEXT });
  });
});
