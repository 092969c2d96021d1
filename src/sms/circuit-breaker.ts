import { BrokenCircuitError, CircuitState as Cockatiel, ConsecutiveBreaker, circuitBreaker, handleAll, type IBackoff } from 'cockatiel';
import { addSeconds, type Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/log.ts';
import { SmsDeliveryError, type SmsReceipt, type SmsSender } from './port.ts';

export interface CircuitState {
  status: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  openUntil?: string;
}

type Outcome = { receipt: SmsReceipt } | { refused: SmsDeliveryError };

const circuitOpen = () => new SmsDeliveryError('SMS gateway circuit is open after repeated failures; not calling it');

/**
 * After `failures` consecutive failures the sender fails fast for `cooldownSeconds` instead of
 * making every login wait for a dead gateway; then one trial request decides whether it closes.
 */
export function withCircuitBreaker(sender: SmsSender, settings: { failures: number; cooldownSeconds: number }, clock: Clock, log: Logger): SmsSender & { state(): CircuitState } {
  let openUntil: Date | undefined;
  const cooling = () => openUntil !== undefined && clock.now() < openUntil;

  // Cockatiel measures its cooldown with Date.now(), which tests cannot move. Its cooldown is a
  // backoff whose duration it reads on every call while open, so the backoff answers from the
  // injected clock instead: "longer than any wait" while cooling, "no wait" once it has passed.
  const cooldown = {
    next(): IBackoff<unknown> {
      openUntil = addSeconds(clock.now(), settings.cooldownSeconds);
      return { get duration() { return cooling() ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY; }, next: cooldown.next };
    },
  };
  const breaker = new ConsecutiveBreaker(settings.failures);
  const policy = circuitBreaker(handleAll, { breaker, halfOpenAfter: cooldown });
  const failures = () => breaker.state;

  policy.onBreak(() => log.error({ consecutiveFailures: failures(), openUntil: openUntil?.toISOString() }, 'sms gateway circuit opened: failing fast'));
  policy.onReset(() => {
    openUntil = undefined;
    log.info('sms gateway circuit closed: the gateway answers again');
  });

  const status = (): CircuitState['status'] => {
    if (policy.state === Cockatiel.Closed) return 'closed';
    return policy.state === Cockatiel.Open && cooling() ? 'open' : 'half-open';
  };

  return {
    state: () => ({ status: status(), consecutiveFailures: failures(), ...(openUntil ? { openUntil: openUntil.toISOString() } : {}) }),

    async send(message) {
      // Half-open in cockatiel means the one trial is under way: the others fail fast rather than
      // queue behind a gateway that may take its whole timeout to answer.
      if (policy.state === Cockatiel.HalfOpen) throw circuitOpen();
      let outcome: Outcome;
      try {
        outcome = await policy.execute(async (): Promise<Outcome> => {
          try {
            return { receipt: await sender.send(message) };
          } catch (err) {
            // A 4xx about one message (a bad number, an opted-out user) says nothing about the
            // gateway: it answered, so for the circuit it is a success, and one user's input
            // cannot open the circuit for everyone.
            if (err instanceof SmsDeliveryError && !err.gatewayFault) return { refused: err };
            throw err;
          }
        });
      } catch (err) {
        if (err instanceof BrokenCircuitError) throw circuitOpen();
        throw err;
      }
      if ('refused' in outcome) throw outcome.refused;
      return outcome.receipt;
    },
  };
}
