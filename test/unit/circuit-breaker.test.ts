import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/log.ts';
import { withCircuitBreaker } from '../../src/sms/circuit-breaker.ts';
import { SmsDeliveryError, type SmsSender } from '../../src/sms/port.ts';
import { Gate } from '../support/gate.ts';
import { TestClock } from '../support/sms.ts';

const message = { to: '+447400123456', text: 'Your code is 482913.', purpose: 'otp' as const };

/** A gateway that answers each call with the next status of a script (201 once it runs out). */
class ScriptedGateway implements SmsSender {
  calls = 0;
  next: number[] = [];
  readonly gate = new Gate();

  async send() {
    this.calls++;
    await this.gate.pass();
    const status = this.next.shift() ?? 201;
    if (status >= 300) throw new SmsDeliveryError(`gateway answered ${status}`, status);
    return { messageId: `SM${this.calls}`, status };
  }
}

function breaker(failures = 2, cooldownSeconds = 30) {
  const clock = new TestClock(Date.UTC(2026, 0, 1));
  const gateway = new ScriptedGateway();
  const sender = withCircuitBreaker(gateway, { failures, cooldownSeconds }, clock, createLogger('silent'));
  return { clock, gateway, sender };
}

describe('SMS circuit breaker', () => {
  it('counts only gateway faults in a row: a refused message in between starts the count afresh', async () => {
    const { gateway, sender } = breaker(2);
    gateway.next = [503, 400, 503];
    await expect(sender.send(message)).rejects.toMatchObject({ status: 503 });
    await expect(sender.send(message)).rejects.toMatchObject({ status: 400 });
    await expect(sender.send(message)).rejects.toMatchObject({ status: 503 });
    expect(sender.state()).toEqual({ status: 'closed', consecutiveFailures: 1 });
  });

  it('reports when it opens by the injected clock, and half-opens only once that clock has passed it', async () => {
    const { clock, gateway, sender } = breaker(2, 30);
    gateway.next = [503, 503];
    for (let i = 0; i < 2; i++) await expect(sender.send(message)).rejects.toMatchObject({ status: 503 });
    expect(sender.state()).toEqual({ status: 'open', consecutiveFailures: 2, openUntil: '2026-01-01T00:00:30.000Z' });
    clock.advance(29);
    await expect(sender.send(message)).rejects.toThrow(/circuit is open/);
    expect(gateway.calls).toBe(2);
    clock.advance(1);
    expect(sender.state().status).toBe('half-open');
    expect((await sender.send(message)).status).toBe(201);
    expect(sender.state()).toEqual({ status: 'closed', consecutiveFailures: 0 });
  });

  it('lets one trial through: the others fail fast meanwhile, and a refused message closes the circuit', async () => {
    const { clock, gateway, sender } = breaker(1, 30);
    gateway.next = [503, 400];
    await expect(sender.send(message)).rejects.toMatchObject({ status: 503 });
    clock.advance(30);
    const held = gateway.gate.holdNext();
    const trial = sender.send(message);
    await held.reached;
    expect(sender.state().status).toBe('half-open');
    await expect(sender.send(message)).rejects.toThrow(/circuit is open/);
    expect(gateway.calls).toBe(2);
    held.release();
    await expect(trial).rejects.toMatchObject({ status: 400 });
    expect(sender.state()).toEqual({ status: 'closed', consecutiveFailures: 0 });
  });
});
