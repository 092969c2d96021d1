import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { FakeGateway } from '../support/fake-gateway.ts';
import { pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';
import { TestClock } from '../support/sms.ts';

/** The first line of the code page, which says what became of the code. */
function leadText(html: string): string | undefined {
  return /<p class="lead">([\s\S]*?)<\/p>/.exec(html)?.[1]?.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
}

/** The code page says exactly what happened to the code, and what the user can do next. */
describe('what the code page says', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let fake: FakeGateway;
  const clock = new TestClock();
  const NUMBER = '+447400123456';
  const MASKED = '+44 •••• ••34 56';

  beforeAll(async () => {
    fake = await FakeGateway.start();
    t = await startTestApp({
      clock,
      overrides: {
        smsOtp: { userSendLimit: 2, resendCooldownSeconds: 30 },
        sms: {
          sender: 'http', allowedCountries: ['GB'], circuitFailures: 100, ipSendLimit: 100,
          gateway: { url: `${fake.origin}/Messages.json`, payload: 'To=$ctx.num&Body=$ctx.msg', timeoutMs: 200 },
        },
      },
    });
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  beforeEach(() => {
    fake.reply = undefined;
    // Every case starts with fresh budgets.
    clock.advance(7200);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  let users = 0;
  async function codePage(phone = NUMBER) {
    const name = `user${++users}`;
    await t.addUser(name, `${name}-long-password`, phone);
    const { attempt, next } = await toSecondStep(rp, name, `${name}-long-password`);
    return { attempt, page: pageOf(next), name };
  }

  it('sent: where the code went, and the wait before another', async () => {
    const { page } = await codePage();
    expect(leadText(page.html)).toBe(`We sent a code by text message to ${MASKED}.`);
    expect(alertText(page.html)).toBeUndefined();
    expect(page.html).toContain('You can ask for a new code in 30 seconds.');
  });

  it('not sent (the gateway failed): says so, and offers a new code at once and a backup code', async () => {
    fake.reply = () => ({ status: 503 });
    const { page } = await codePage();
    expect(leadText(page.html)).toBe(`We could not send a code to ${MASKED}.`);
    expect(alertText(page.html)).toBe('We could not send the code. Ask for a new code, or use a backup code.');
    expect(page.html).toContain('Send a new code');
    expect(page.html).not.toContain('You can ask for a new code in');
    expect(page.html).toContain('Use a backup code instead');
  });

  it('refused destination: says codes cannot go to that number, and offers only the backup code', async () => {
    const { page } = await codePage('+14155552671');
    expect(leadText(page.html)).toBe('Codes cannot be sent by text message to +1 •••• ••26 71.');
    expect(alertText(page.html)).toBe('Codes cannot be sent to the number on your account. Use a backup code, or ask your administrator to change the number.');
    expect(page.html).not.toContain('Send a new code');
    expect(page.html).toContain('Use a backup code instead');
    expect(fake.received.filter((r) => r.form.get('To') === '+14155552671')).toEqual([]);
  });

  it('uncertain (a timeout after the request went): it may arrive; wait, or ask again after the cooldown', async () => {
    fake.reply = () => ({ status: 201, body: { sid: 'late' }, delayMs: 5_000 });
    const { page } = await codePage();
    expect(leadText(page.html)).toBe(`We asked for a code to be sent by text message to ${MASKED}, but the SMS service did not confirm it went out.`);
    expect(alertText(page.html)).toBe('We could not confirm that the code was sent. It may still arrive: wait a little, and if it does not come, ask for a new code or use a backup code.');
    expect(page.html).toContain('You can ask for a new code in 30 seconds.');
    expect(page.html).toContain('Use a backup code instead');
  });

  it('budget spent: no code was sent, and when one can be asked for again', async () => {
    const { name } = await codePage();
    // The account's second SMS of the hour, ten minutes later.
    clock.advance(600);
    await toSecondStep(rp, name, `${name}-long-password`);
    clock.advance(600);
    const { next } = await toSecondStep(rp, name, `${name}-long-password`);
    const page = pageOf(next);
    expect(leadText(page.html)).toBe(`No code has been sent yet to ${MASKED}.`);
    // The first SMS leaves the hour's window 40 minutes from now.
    expect(alertText(page.html)).toBe('No more codes can be sent for now. You can ask for a new code in 40 minutes, or use another way to sign in, such as a backup code.');
    expect(page.html).toContain('Use a backup code instead');
  });

  it('budget spent on a resend: the code already sent still stands, and the page says when another can come', async () => {
    const first = await codePage();
    clock.advance(60);
    await toSecondStep(rp, first.name, `${first.name}-long-password`);
    clock.advance(60);
    const page = pageOf(await submitStep(first.attempt.browser, first.page, 'sms-otp', { action: 'resend' }));
    expect(leadText(page.html)).toBe(`We sent a code by text message to ${MASKED}.`);
    expect(alertText(page.html)).toBe('No more codes can be sent for now. You can ask for a new code in 58 minutes, or use another way to sign in, such as a backup code.');
  });
});
