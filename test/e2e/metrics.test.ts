import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../../src/login/passwords.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { callbackOf, exchange, pageOf, relyingParty, startLogin, submitPassword, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { scrape, valueOf } from '../support/scrape.ts';
import { TestClock } from '../support/sms.ts';

const TOKEN = 'metrics-token-0123456789abcdef0123456789';

describe('metrics, scraped after real logins', () => {
  let t: TestApp;
  let fake: FakeGateway;
  let rp: RelyingParty;
  const clock = new TestClock();
  let local: string;

  beforeAll(async () => {
    fake = await FakeGateway.start();
    t = await startTestApp({
      clock,
      // The real hasher, so its queue and times are the ones production reports.
      hasher: createArgon2Hasher(1),
      overrides: {
        metrics: { port: 0, bearerToken: TOKEN },
        password: { lockAfter: 2 },
        smsOtp: { userSendLimit: 1, lockoutThreshold: 1 },
        sms: { sender: 'http', gateway: { preset: 'twilio', accountSid: 'AC1', authToken: 'gateway-token-1', from: '+15005550006', url: `${fake.origin}/2010-04-01/Accounts/AC1/Messages.json` } },
      },
    });
    local = `http://127.0.0.1:${t.app.metricsPort}/metrics`;
    await t.addUser('ana', 'anas-long-password', '+447400123456');
    await t.addUser('cyd', 'cyds-long-password', '+14155552671');
    rp = await relyingParty(t, await t.addClient('web-app'));

    // A login with the password and the SMS code, through the gateway, to the app's tokens.
    const { attempt, next } = await toSecondStep(rp, 'ana', 'anas-long-password');
    await exchange(rp, attempt, callbackOf(await submitStep(attempt.browser, pageOf(next), 'sms-otp', { code: fake.lastCode() })));
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  it('serves the login on its own loopback listener: logins, steps, hashing, the SMS, the circuit, conversion, the pool, Node', async () => {
    const { status, contentType, series } = await scrape(local);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(series, 'keystep_logins_started_total', { client: 'web-app' })).toBe(1);
    expect(valueOf(series, 'keystep_logins_finished_total', { client: 'web-app', result: 'success' })).toBe(1);
    expect(valueOf(series, 'keystep_step_results_total', { factor: 'password', outcome: 'passed' })).toBe(1);
    expect(valueOf(series, 'keystep_step_results_total', { factor: 'sms-otp', outcome: 'passed' })).toBe(1);
    expect(valueOf(series, 'keystep_step_duration_seconds_count', { factor: 'sms-otp', outcome: 'passed' })).toBe(1);
    expect(valueOf(series, 'keystep_step_duration_seconds_bucket', { factor: 'password', outcome: 'passed', le: '+Inf' })).toBe(1);
    expect(valueOf(series, 'keystep_password_hash_seconds_count', { operation: 'verify' })).toBe(1);
    expect(valueOf(series, 'keystep_password_hash_queue_depth')).toBe(0);
    expect(valueOf(series, 'keystep_sms_sends_total', { provider: 'twilio', purpose: 'otp', status: 'sent', country: 'GB' })).toBe(1);
    expect(valueOf(series, 'keystep_sms_gateway_duration_seconds_count', { provider: 'twilio', status: 'sent' })).toBe(1);
    expect(valueOf(series, 'keystep_sms_circuit_state', { provider: 'twilio' })).toBe(0);
    expect(valueOf(series, 'keystep_sms_codes_verified_total', { country: 'GB' })).toBe(1);
    expect(valueOf(series, 'keystep_sms_conversion_ratio', { country: 'GB' })).toBe(1);
    expect(valueOf(series, 'keystep_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
    expect(valueOf(series, 'keystep_db_pool_connections', { state: 'waiting' })).toBe(0);
    expect(valueOf(series, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(series, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts refusals and locks: a spent budget, a wrong code that locks, wrong passwords that lock', async () => {
    // ana's budget of one SMS is spent: the second login is refused a code.
    await toSecondStep(rp, 'ana', 'anas-long-password');
    // One wrong code locks cyd's codes (lockoutThreshold 1); the next try meets the lock.
    const cyd = await toSecondStep(rp, 'cyd', 'cyds-long-password');
    const wrong = await submitStep(cyd.attempt.browser, pageOf(cyd.next), 'sms-otp', { code: '000000' });
    await submitStep(cyd.attempt.browser, pageOf(await cyd.attempt.browser.visit(wrong.page!.url)), 'sms-otp', { code: '111111' }).catch(() => undefined);
    // Two wrong passwords lock the name (lockAfter 2), known or not; the third try meets the lock.
    const guess = await startLogin(rp);
    let page = pageOf(guess.visit);
    for (let i = 0; i < 3; i++) page = pageOf(await submitPassword(guess.browser, page, 'nobody', `wrong-password-${i}`));

    const { series, body } = await scrape(local);
    expect(valueOf(series, 'keystep_sms_budget_refusals_total', { budget: 'account' })).toBe(1);
    expect(valueOf(series, 'keystep_sms_sends_total', { country: 'US', status: 'sent' })).toBe(1);
    expect(valueOf(series, 'keystep_step_results_total', { factor: 'sms-otp', outcome: 'retry' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(series, 'keystep_locks_total', { lock: 'code', event: 'locked' })).toBe(1);
    expect(valueOf(series, 'keystep_locks_total', { lock: 'password', event: 'locked' })).toBe(1);
    expect(valueOf(series, 'keystep_locks_total', { lock: 'password', event: 'refused' })).toBe(1);
    // The one code sent to the US was never entered.
    expect(valueOf(series, 'keystep_sms_conversion_ratio', { country: 'US' })).toBe(0);
    // No label carries a name or a number.
    for (const secret of ['ana', 'cyd', 'nobody', '7400123456', '4155552671', '+44', '+1']) expect(body).not.toContain(`"${secret}`);
    expect(body).not.toMatch(/7400123456|4155552671|anas-long-password/);
  });

  it('serves the same on the main listener, only with the bearer token', async () => {
    const url = `${t.issuer}/metrics`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await none.text()).not.toContain('keystep_');
    for (const wrong of [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), '', 'x']) {
      expect((await scrape(url, wrong)).status).toBe(401);
    }
    expect((await fetch(url, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    const scraped = await scrape(url, TOKEN);
    expect(scraped.status).toBe(200);
    expect(valueOf(scraped.series, 'keystep_logins_finished_total', { client: 'web-app', result: 'success' })).toBe(1);
  });

  it('the metrics listener serves /metrics to GET only, on loopback only', async () => {
    const port = t.app.metricsPort!;
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/interaction/x`)).status).toBe(404);
    expect((await fetch(local, { method: 'POST', body: 'x' })).status).toBe(405);
    await expect(fetch(`http://127.0.0.2:${port}/metrics`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});

describe('metrics not asked for', () => {
  it('are served nowhere: no listener, no /metrics on the main one', async () => {
    const t = await startTestApp();
    try {
      expect(t.app.metricsPort).toBeUndefined();
      expect((await fetch(`${t.issuer}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});
