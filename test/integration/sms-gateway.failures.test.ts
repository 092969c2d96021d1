import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SmsDeliveryError } from '../../src/sms/port.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { gatewaySender } from '../support/gateway-sender.ts';
import { TestClock } from '../support/sms.ts';

const NUMBER = '+447400123456';
const message = { to: NUMBER, text: 'Your code is 482913.\n\n@id.example #482913', code: '482913', purpose: 'otp' as const };

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('gateway failures', () => {
  let fake: FakeGateway;
  beforeAll(async () => { fake = await FakeGateway.start(); });
  beforeEach(() => { fake.received.length = 0; fake.reply = undefined; fake.streamed = undefined; });
  afterAll(() => fake.stop());

  const twilioLike = (extra: Record<string, unknown> = {}) => ({ gateway: { url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', ...extra } });

  it('treats 4xx and 5xx as failures, sent once, never retried', async () => {
    for (const status of [400, 401, 429, 500, 503]) {
      fake.received.length = 0;
      fake.reply = () => ({ status, body: { message: `failure ${status}` } });
      const { sender, records } = gatewaySender(twilioLike());
      await expect(sender.send(message)).rejects.toMatchObject({ status, message: expect.stringContaining(`gateway answered ${status}`) });
      expect(fake.received).toHaveLength(1);
      expect(records[0]).toMatchObject({ status: 'failed', httpStatus: status, destination: '+44 •••• ••34 56' });
    }
  });

  it('accepts only the listed statuses', async () => {
    fake.reply = () => ({ status: 200, body: { sid: 'SM1' } });
    await expect(gatewaySender(twilioLike({ successStatus: [201] })).sender.send(message)).rejects.toMatchObject({ status: 200 });
    expect((await gatewaySender(twilioLike({ successStatus: [200, 201] })).sender.send(message)).status).toBe(200);
  });

  it('needs the message id when messageIdPath is set', async () => {
    fake.reply = () => ({ status: 200, body: { messages: [{ status: '0', 'message-id': 'V-1' }] } });
    expect((await gatewaySender(twilioLike({ messageIdPath: 'messages.0.message-id' })).sender.send(message)).messageId).toBe('V-1');
    fake.reply = () => ({ status: 200, body: { messages: [{ status: '2', 'error-text': 'Missing to param' }] } });
    await expect(gatewaySender(twilioLike({ messageIdPath: 'messages.0.message-id' })).sender.send(message)).rejects.toThrow(/without messages.0.message-id/);
    fake.reply = () => ({ status: 200, body: 'not json' });
    await expect(gatewaySender(twilioLike({ messageIdPath: 'sid' })).sender.send(message)).rejects.toBeInstanceOf(SmsDeliveryError);
  });

  it('gives up on a gateway slower than timeoutMs, without retrying', async () => {
    fake.reply = () => ({ status: 201, body: { sid: 'SM-late' }, delayMs: 5_000 });
    const { sender } = gatewaySender(twilioLike({ timeoutMs: 150 }));
    await expect(sender.send(message)).rejects.toThrow(/timed out after 150 ms/);
    expect(fake.received).toHaveLength(1);
  });

  it('waits for a slow gateway within timeoutMs', async () => {
    fake.reply = () => ({ status: 201, body: { sid: 'SM-slow' }, delayMs: 100 });
    expect((await gatewaySender(twilioLike({ timeoutMs: 5_000, messageIdPath: 'sid' })).sender.send(message)).messageId).toBe('SM-slow');
  });

  it('retries a refused connection once, then reports the gateway unreachable', async () => {
    const port = await closedPort();
    const { sender, logLines } = gatewaySender({ gateway: { url: `http://127.0.0.1:${port}/send`, payload: 'to=$ctx.num&text=$ctx.msg' } });
    await expect(sender.send(message)).rejects.toThrow(/gateway unreachable \(ECONNREFUSED\)/);
    expect(logLines.filter((l) => l.includes('retrying once'))).toHaveLength(1);
  });

  it('opens the circuit after consecutive failures, fails fast, and closes after a good trial', async () => {
    const clock = new TestClock();
    fake.reply = () => ({ status: 503 });
    const { sender, circuit, logLines } = gatewaySender({ ...twilioLike(), circuitFailures: 3, circuitCooldownSeconds: 30 }, clock);
    for (let i = 0; i < 3; i++) await expect(sender.send(message)).rejects.toMatchObject({ status: 503 });
    expect(circuit!()).toMatchObject({ status: 'open', consecutiveFailures: 3 });
    expect(logLines.some((l) => l.includes('circuit opened'))).toBe(true);
    await expect(sender.send(message)).rejects.toThrow(/circuit is open/);
    expect(fake.received).toHaveLength(3);

    clock.advance(31);
    expect(circuit!().status).toBe('half-open');
    await expect(sender.send(message)).rejects.toMatchObject({ status: 503 });
    expect(circuit!().status).toBe('open');
    expect(fake.received).toHaveLength(4);

    clock.advance(31);
    fake.reply = undefined;
    expect((await sender.send(message)).status).toBe(201);
    expect(circuit!()).toMatchObject({ status: 'closed', consecutiveFailures: 0 });
    expect(logLines.some((l) => l.includes('circuit closed'))).toBe(true);
  });

  it('keeps the circuit closed for answers about one message (4xx), whoever sends them', async () => {
    const clock = new TestClock();
    fake.reply = () => ({ status: 400, body: { code: 21211, message: 'invalid To number' } });
    const { sender, circuit } = gatewaySender({ ...twilioLike(), circuitFailures: 2 }, clock);
    for (let i = 0; i < 5; i++) await expect(sender.send(message)).rejects.toMatchObject({ status: 400 });
    expect(circuit!()).toMatchObject({ status: 'closed', consecutiveFailures: 0 });
    fake.reply = () => ({ status: 429 });
    for (let i = 0; i < 2; i++) await expect(sender.send(message)).rejects.toMatchObject({ status: 429 });
    expect(circuit!().status).toBe('open');
  });

  it('says when an SMS may have gone out (a timeout after connecting, a success without an id)', async () => {
    fake.reply = () => ({ status: 201, body: { sid: 'late' }, delayMs: 5_000 });
    await expect(gatewaySender(twilioLike({ timeoutMs: 150 })).sender.send(message)).rejects.toMatchObject({ mayHaveSent: true });
    fake.reply = () => ({ status: 201, body: {} });
    await expect(gatewaySender(twilioLike({ messageIdPath: 'sid' })).sender.send(message)).rejects.toMatchObject({ mayHaveSent: true });
    fake.reply = () => ({ status: 500 });
    await expect(gatewaySender(twilioLike()).sender.send(message)).rejects.toMatchObject({ mayHaveSent: false });
    const port = await closedPort();
    await expect(gatewaySender({ gateway: { url: `http://127.0.0.1:${port}/s`, payload: 'to=$ctx.num&t=$ctx.msg' } }).sender.send(message)).rejects.toMatchObject({ mayHaveSent: false });
  });

  it('records what became of each send: unreached, failed by the gateway, or uncertain', async () => {
    const clock = new TestClock();
    const port = await closedPort();
    const unreachable = gatewaySender({ gateway: { url: `http://127.0.0.1:${port}/s`, payload: 'to=$ctx.num&t=$ctx.msg' } });
    await expect(unreachable.sender.send(message)).rejects.toThrow(/unreachable/);
    fake.reply = () => ({ status: 503 });
    const failing = gatewaySender({ ...twilioLike(), circuitFailures: 1 }, clock);
    await expect(failing.sender.send(message)).rejects.toMatchObject({ status: 503 });
    // The open circuit does not call the gateway: nothing reached it.
    await expect(failing.sender.send(message)).rejects.toThrow(/circuit is open/);
    fake.reply = () => ({ status: 201, body: { sid: 'late' }, delayMs: 5_000 });
    const slow = gatewaySender(twilioLike({ timeoutMs: 150 }));
    await expect(slow.sender.send(message)).rejects.toThrow(/timed out/);
    expect([...unreachable.records, ...failing.records, ...slow.records].map((r) => [r.status, r.httpStatus])).toEqual([
      ['unreached', null], ['failed', 503], ['unreached', null], ['uncertain', null],
    ]);
  });

  it('stops reading a body past 64 KiB: after a success status the SMS may have gone, after a failure it did not', async () => {
    const huge = 30 * 1024 * 1024;
    fake.reply = () => ({ status: 201, bodyBytes: huge });
    const ok = gatewaySender(twilioLike());
    await expect(ok.sender.send(message)).rejects.toMatchObject({ status: 201, mayHaveSent: true, message: expect.stringContaining('gateway answered 201 with a body over 64 KiB') });
    // Keystep hung up long before the gateway could write 30 MB.
    expect(fake.streamed).toMatchObject({ finished: false });
    expect(ok.records[0]).toMatchObject({ status: 'uncertain', httpStatus: 201 });
    expect(ok.records[0]!.error!.length).toBeLessThanOrEqual(500);

    fake.reply = () => ({ status: 500, bodyBytes: huge });
    const failed = gatewaySender(twilioLike());
    await expect(failed.sender.send(message)).rejects.toMatchObject({ status: 500, mayHaveSent: false });
    expect(failed.records[0]).toMatchObject({ status: 'failed', httpStatus: 500 });
    expect(fake.streamed).toMatchObject({ finished: false });

    // A body just under the limit is read whole.
    fake.reply = () => ({ status: 201, body: JSON.stringify({ sid: 'SM-big', pad: 'x'.repeat(60 * 1024) }) });
    expect((await gatewaySender(twilioLike({ messageIdPath: 'sid' })).sender.send(message)).messageId).toBe('SM-big');
  });

  it('stores and logs no NUL or lone surrogate from a hostile body, and no secret split by a NUL', async () => {
    fake.reply = () => ({ status: 500, body: 'down\u0000for +4474\u000000123456, code 4829\u000013 \ud83d\ude00' });
    const { sender, records, logLines } = gatewaySender(twilioLike());
    await expect(sender.send(message)).rejects.toMatchObject({ status: 500 });
    const error = records[0]!.error!;
    expect(error).toContain('gateway answered 500: downfor [redacted], code [redacted]');
    const logged = logLines.join('');
    for (const text of [error, logged]) {
      expect(text).not.toMatch(/\u0000|\\u0000/);
      expect(text).not.toContain('447400123456');
      expect(text).not.toContain('482913');
    }

    // A message id with NUL and a lone surrogate (JSON can carry both) is stored without them.
    fake.reply = () => ({ status: 201, body: '{"sid":"SM\\u0000\\ud800-7"}' });
    const withId = gatewaySender(twilioLike({ messageIdPath: 'sid' }));
    expect((await withId.sender.send(message)).messageId).toBe('SM-7');
    expect(withId.records[0]).toMatchObject({ status: 'sent', providerMessageId: 'SM-7' });
  });

  it('refuses numbers outside the allow-list, and invalid numbers, before calling the gateway', async () => {
    const { sender, records } = gatewaySender({ ...twilioLike(), allowedCountries: ['GB', '+1'] });
    await expect(sender.send({ ...message, to: '+33612345678' })).rejects.toThrow(/not allowed/);
    await expect(sender.send({ ...message, to: '+442071838750' })).rejects.toThrow(/not a mobile number/);
    await expect(sender.send({ ...message, to: '12' })).rejects.toThrow(/not a valid phone number/);
    expect(fake.received).toHaveLength(0);
    expect(records).toHaveLength(0);
    await sender.send({ ...message, to: '+1 415 555 2671' });
    expect(fake.received[0]!.form.get('To')).toBe('+14155552671');
    await sender.send(message);
    expect(fake.received).toHaveLength(2);
  });
});
