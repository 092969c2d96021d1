import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/log.ts';
import { SmsDeliveryError, type SmsSender } from './port.ts';

export interface CircuitState {
  status: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  openUntil?: string;
}

/**
 * After `failures` consecutive failures the sender fails fast for `cooldownSeconds` instead of
 * making every login wait for a dead gateway; then one trial request decides whether it closes.
 */
export function withCircuitBreaker(sender: SmsSender, settings: { failures: number; cooldownSeconds: number }, clock: Clock, log: Logger): SmsSender & { state(): CircuitState } {
  let consecutive = 0;
  let openUntil: Date | undefined;
  let trialInFlight = false;

  const status = (): CircuitState['status'] => (!openUntil ? 'closed' : clock.now() < openUntil ? 'open' : 'half-open');

  return {
    state: () => ({ status: status(), consecutiveFailures: consecutive, ...(openUntil ? { openUntil: openUntil.toISOString() } : {}) }),

    async send(message) {
      const current = status();
      if (current === 'open' || (current === 'half-open' && trialInFlight)) {
        throw new SmsDeliveryError('SMS gateway circuit is open after repeated failures; not calling it');
      }
      trialInFlight = current === 'half-open';
      try {
        const receipt = await sender.send(message);
        if (openUntil) log.info('sms gateway circuit closed: the gateway answers again');
        consecutive = 0;
        openUntil = undefined;
        return receipt;
      } catch (err) {
        // A 4xx about one message (a bad number, an opted-out user) says nothing about the gateway:
        // it must not let one user's input open the circuit for everyone.
        if (err instanceof SmsDeliveryError && !err.gatewayFault) {
          if (current === 'half-open') openUntil = undefined;
          consecutive = 0;
          throw err;
        }
        consecutive++;
        if (current === 'half-open' || consecutive >= settings.failures) {
          openUntil = new Date(clock.now().getTime() + settings.cooldownSeconds * 1000);
          log.error({ consecutiveFailures: consecutive, openUntil: openUntil.toISOString() }, 'sms gateway circuit opened: failing fast');
        }
        throw err;
      } finally {
        trialInFlight = false;
      }
    },
  };
}
