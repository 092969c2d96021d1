import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeGateway } from '../support/fake-gateway.ts';

const NUMBER = '+447400123456';
const SECRET = 'receipt-secret-in-the-path-0123';

describe('`keystep sms` with several gateways', () => {
  let primary: FakeGateway;
  let backup: FakeGateway;
  let t: TestDatabase;
  beforeAll(async () => {
    [primary, backup] = await Promise.all([FakeGateway.start(), FakeGateway.start()]);
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await primary.stop();
    await backup.stop();
    await t.drop();
  });

  const template = (name: string, fake: FakeGateway) => ({ name, url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', successStatus: [201], messageIdPath: 'sid' });
  // The list as one environment variable of JSON, as an operator would set it.
  const env = () => ({
    DATABASE_URL: t.url,
    KEYSTEP_ISSUER: 'https://id.example.com',
    KEYSTEP_SMS_SENDER: 'http',
    KEYSTEP_SMS_GATEWAYS: JSON.stringify([
      { ...template('primary', primary), countries: ['GB'], notSentStatus: [503], receipts: { format: 'generic', secret: SECRET, messageIdField: 'id', statusField: 'status' } },
      template('backup', backup),
    ]),
  });

  it('`sms test` says which gateway took the message, and `--gateway` tests one provider of the list', async () => {
    expect((await runCli(['sms', 'test', NUMBER], env())).stdout).toMatch(/^sent through primary: status 201, message id SM0+1\n$/);
    expect((await runCli(['sms', 'test', NUMBER, '--gateway', 'backup'], env())).stdout).toMatch(/^sent through backup: status 201/);
    expect([primary.received.length, backup.received.length]).toEqual([1, 1]);
    primary.reply = () => ({ status: 503 });
    expect((await runCli(['sms', 'test', NUMBER], env())).stdout).toMatch(/^sent through backup: /);
    expect(await runCli(['sms', 'test', NUMBER, '--gateway', 'primary'], env())).toMatchObject({ code: 1, stderr: expect.stringMatching(/not sent \(primary\): gateway answered 503/) });
    expect(await runCli(['sms', 'test', NUMBER, '--gateway', 'nobody'], env())).toMatchObject({ code: 3, stderr: expect.stringMatching(/no gateway named nobody \(the names: primary, backup\)/) });
    primary.reply = undefined;
  });

  it('`sms gateways` lists them in order, where receipts go (never the secret), and the last day\'s sends', async () => {
    const result = await runCli(['sms', 'gateways'], env());
    expect(result.code).toBe(0);
    const port = (fake: FakeGateway) => new URL(fake.origin).host;
    expect(result.stdout).toBe([
      `1. primary: ${port(primary)}, countries GB, next one tried after 503`,
      '   receipts: POST https://id.example.com/sms/receipts/primary/<secret>',
      '   last 24 hours: 1 failed, 1 sent',
      `2. backup: ${port(backup)}, every country`,
      '   no receipts',
      '   last 24 hours: 2 sent',
      'Circuit breakers are per instance: see /readyz (checks.smsGateway.gateways) on each.',
      '',
    ].join('\n'));
    expect(result.stdout).not.toContain(SECRET);
  });
});
