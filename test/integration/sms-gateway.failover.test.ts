import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { SmsDeliveryError, SmsDestinationError, type SmsMessage } from '../../src/sms/port.ts';
import { gatewayProblems, gatewaysProblems, wireSmsSender } from '../../src/sms-wiring.ts';
import { createLogger } from '../../src/shared/log.ts';
import { blackHole, FakeGateway } from '../support/fake-gateway.ts';
import { gatewaySender } from '../support/gateway-sender.ts';
import { TestClock } from '../support/sms.ts';
import { problemsOf } from '../support/config-problems.ts';

const UK = '+447400123456';
const US = '+12015550123';
const message = (to = UK, flowUid?: string): SmsMessage => ({ to, text: 'Your code is 123456', code: '123456', purpose: 'otp', ...(flowUid ? { flowUid } : {}) });

/** Several providers, each a real HTTP server on loopback, behind the sender exactly as Keystep wires it. */
describe('several SMS gateways', () => {
  let first: FakeGateway;
  let second: FakeGateway;
  let third: FakeGateway;
  const fakes = () => [first, second, third];

  // Fresh gateways for each test: a connection kept alive from an earlier test would meet a gateway
  // taken down as a reset, not a refusal.
  beforeEach(async () => {
    [first, second, third] = await Promise.all([FakeGateway.start(), FakeGateway.start(), FakeGateway.start()]);
  });
  afterEach(async () => {
    for (const fake of fakes()) await fake.stop();
  });

  const gateway = (name: string, fake: FakeGateway, extra: Record<string, unknown> = {}) => ({
    name, url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', successStatus: [201], messageIdPath: 'sid', timeoutMs: 200, ...extra,
  });
  const received = () => fakes().map((f) => f.received.length);

  function sender(extra: { first?: Record<string, unknown>; second?: Record<string, unknown> } = {}, clock = new TestClock(), used?: (uid: string) => Promise<string[]>) {
    return gatewaySender({
      circuitFailures: 2,
      gateways: [gateway('primary', first, extra.first), gateway('backup', second, extra.second)],
    }, clock, used ? { usedGateways: used, receipts: { applyReceipt: async () => 'unknown' } } : undefined);
  }

  it('sends through the first gateway while it takes messages, and records which one took it', async () => {
    const s = sender();
    const receipt = await s.sender.send(message());
    expect(receipt).toMatchObject({ gateway: 'primary', status: 201 });
    expect(received()).toEqual([1, 0, 0]);
    expect(s.records).toMatchObject([{ status: 'sent', gateway: 'primary', providerMessageId: receipt.messageId }]);
  });

  const provenUnsent: { name: string; fault(): Promise<void> | void; firstOptions?: Record<string, unknown>; reached: number }[] = [
    { name: 'a refused connection', fault: () => first.down(), reached: 0 },
    { name: '429 Too Many Requests', fault: () => { first.reply = () => ({ status: 429, body: { message: 'slow down' } }); }, reached: 1 },
    { name: 'a 5xx the provider documents as not sent (notSentStatus)', fault: () => { first.reply = () => ({ status: 503 }); }, firstOptions: { notSentStatus: [503] }, reached: 1 },
  ];
  for (const { name, fault, firstOptions, reached } of provenUnsent) {
    it(`after ${name}, the next gateway is tried, and the send is recorded as its`, async () => {
      await fault();
      const s = sender({ first: firstOptions });
      expect(await s.sender.send(message())).toMatchObject({ gateway: 'backup' });
      expect(received()).toEqual([reached, 1, 0]);
      expect(s.records).toMatchObject([{ status: 'sent', gateway: 'backup' }]);
    });
  }

  it('after a timeout while connecting (a host that drops packets), the next gateway is tried: nothing left, and it costs nothing', async () => {
    const hole = await blackHole();
    try {
      const s = sender({ first: { url: `${hole.origin}/Messages.json` } });
      expect(await s.sender.send(message())).toMatchObject({ gateway: 'backup' });
      expect(received()).toEqual([0, 1, 0]);
      // With no gateway after it, the send is recorded as unreached: no budget pays for it.
      const alone = gatewaySender({ gateways: [gateway('primary', first, { url: `${hole.origin}/Messages.json` })] });
      await expect(alone.sender.send(message())).rejects.toMatchObject({ mayHaveSent: false });
      expect(alone.records).toMatchObject([{ status: 'unreached', gateway: 'primary' }]);
    } finally {
      await hole.stop();
    }
  });

  it('after a TLS handshake that fails (a certificate not trusted, or no TLS at all), the next gateway is tried: no request left', async () => {
    const s = sender({ first: { url: `${first.origin.replace('http:', 'https:')}/Messages.json` } });
    expect(await s.sender.send(message())).toMatchObject({ gateway: 'backup' });
    expect(received()).toEqual([0, 1, 0]);
    expect(s.records).toMatchObject([{ status: 'sent', gateway: 'backup' }]);
  });

  it('a 5xx that is not listed as "not sent" ends the send there: the next gateway gets nothing', async () => {
    first.reply = () => ({ status: 503 });
    const s = sender({ first: { notSentStatus: [502] } });
    await expect(s.sender.send(message())).rejects.toMatchObject({ status: 503, gateway: 'primary' });
    expect(received()).toEqual([1, 0, 0]);
    expect(s.records).toMatchObject([{ status: 'failed', gateway: 'primary' }]);
  });

  it('a timeout after the request was sent is not tried elsewhere: the SMS may still arrive, and a second one must not follow', async () => {
    first.reply = () => ({ status: 201, body: { sid: 'SM-late' }, delayMs: 5_000 });
    const s = sender();
    const err = await s.sender.send(message()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsDeliveryError);
    expect(err).toMatchObject({ mayHaveSent: true, gateway: 'primary' });
    expect(received()).toEqual([1, 0, 0]);
    expect(s.records).toMatchObject([{ status: 'uncertain', gateway: 'primary' }]);
  });

  it('an open circuit sends the message straight to the next gateway, without calling the failing one', async () => {
    const clock = new TestClock();
    await first.down();
    const s = sender({}, clock);
    // Two refused connections in a row (each retried once) open the primary's circuit.
    await s.sender.send(message());
    await s.sender.send(message());
    expect(s.gateways!().map((g) => [g.name, g.circuit.status])).toEqual([['primary', 'open'], ['backup', 'closed']]);
    await first.up();
    await s.sender.send(message());
    expect(received()).toEqual([0, 3, 0]);
    expect(s.logLines.join('')).toContain('SMS gateway circuit is open');
    // Its cooldown passed, the primary gets the trial and takes messages again.
    clock.advance(31);
    expect(await s.sender.send(message())).toMatchObject({ gateway: 'primary' });
  });

  it('when every gateway proves it sent nothing, the send is unreached and costs nothing', async () => {
    await first.down();
    second.reply = () => ({ status: 429 });
    const s = sender();
    await expect(s.sender.send(message())).rejects.toThrow(/primary: .*; backup: gateway answered 429/);
    // 429 is an answer, so the record says failed; neither counts against a budget.
    expect(s.records).toMatchObject([{ status: 'failed', gateway: 'backup' }]);
  });

  it('routes by country: a gateway with countries serves only those, the others serve the rest in order', async () => {
    const s = gatewaySender({
      gateways: [gateway('uk', first, { countries: ['GB'] }), gateway('americas', second, { countries: ['+1', 'BR'] }), gateway('world', third)],
    });
    expect(await s.sender.send(message(UK))).toMatchObject({ gateway: 'uk' });
    expect(await s.sender.send(message(US))).toMatchObject({ gateway: 'americas' });
    expect(await s.sender.send(message('+33612345678'))).toMatchObject({ gateway: 'world' });
    expect(received()).toEqual([1, 1, 1]);
    // A country's own provider failing over goes to the next one that serves it, not to another region's.
    first.reply = () => ({ status: 429 });
    expect(await s.sender.send(message(UK))).toMatchObject({ gateway: 'world' });
    expect(received()).toEqual([2, 1, 2]);
  });

  it('a number no gateway serves is refused before any is called', async () => {
    const s = gatewaySender({ gateways: [gateway('uk', first, { countries: ['GB'] })] });
    await expect(s.sender.send(message(US))).rejects.toBeInstanceOf(SmsDestinationError);
    expect(received()).toEqual([0, 0, 0]);
  });

  it('a new code of a login goes first to the gateways that login has not used yet', async () => {
    const used = new Map<string, string[]>([['login-1', ['primary']], ['login-2', ['backup', 'primary']]]);
    const s = sender({}, new TestClock(), async (uid) => used.get(uid) ?? []);
    expect(await s.sender.send(message(UK, 'login-1'))).toMatchObject({ gateway: 'backup' });
    // Both used: the one used longest ago first.
    expect(await s.sender.send(message(UK, 'login-2'))).toMatchObject({ gateway: 'backup' });
    expect(await s.sender.send(message(UK, 'login-3'))).toMatchObject({ gateway: 'primary' });
    // A lookup that fails loses only the preference.
    const broken = sender({}, new TestClock(), async () => { throw new Error('database down'); });
    expect(await broken.sender.send(message(UK, 'login-1'))).toMatchObject({ gateway: 'primary' });
  });

  it('the Twilio preset asks for receipts at the issuer when the gateway has receipts', async () => {
    const s = gatewaySender({
      gateways: [{ name: 'twilio', preset: 'twilio', accountSid: 'AC123', authToken: 'auth-token-0123', from: '+15005550006', url: `${first.origin}/Messages.json`, receipts: { format: 'twilio' } }],
    });
    await s.sender.send(message());
    expect(first.received[0]!.form.get('StatusCallback')).toMatch(/^http:\/\/localhost:\d+\/sms\/receipts\/twilio$/);
  });

  describe('settings', () => {
    const problems = (sms: Record<string, unknown>) =>
      problemsOf(() => loadConfig({}, { env: 'test', sms: { sender: 'http', ...sms } }, { smsGateway: gatewayProblems, smsGateways: gatewaysProblems }));

    it('lists every problem of the list at start-up, each named by its gateway', () => {
      expect(problems({
        gateways: [
          gateway('a', first, { payload: 'Body=$ctx.msg' }),
          gateway('a', second),
          gateway('generic', third, { receipts: { format: 'generic' } }),
          { name: 'twilio', preset: 'twilio', accountSid: 'AC1', from: '+15005550006', receipts: { format: 'twilio' } },
        ],
      })).toEqual([
        'sms.gateways.a: the request never uses $ctx.num, so it cannot say where the SMS goes',
        'sms.gateways.a: two gateways have this name',
        expect.stringMatching(/^sms\.gateways\.generic\.receipts\.secret: /),
        expect.stringMatching(/^sms\.gateways\.generic\.receipts\.messageIdField: /),
        expect.stringMatching(/^sms\.gateways\.generic\.receipts\.statusField: /),
        'sms.gateways.twilio.authToken: the twilio preset needs the Auth Token',
        expect.stringMatching(/^sms\.gateways\.twilio\.receipts\.authToken: /),
      ]);
    });

    it('refuses a name that cannot be a path segment, and statuses outside 5xx as "not sent"', () => {
      expect(problems({ gateways: [gateway('Bad Name', first, { notSentStatus: [404] })] })).toEqual([
        expect.stringMatching(/^sms\.gateways\.0\.name /),
        expect.stringMatching(/^sms\.gateways\.0\.notSentStatus\.0 /),
      ]);
    });

    it('the single sms.gateway still works, as a list of one named default; both at once is refused', async () => {
      const { name: _, ...template } = gateway('unnamed', first);
      const single = gatewaySender({ gateway: template });
      expect(await single.sender.send(message())).toMatchObject({ gateway: 'default' });
      const config = loadConfig({}, { env: 'test', sms: { sender: 'http', gateway: { url: `${first.origin}/x`, payload: 'To=$ctx.num&Body=$ctx.msg' }, gateways: [gateway('a', second)] } });
      expect(() => wireSmsSender(config, createLogger('silent'), new TestClock(), async () => {})).toThrow(/not both/);
    });
  });
});
