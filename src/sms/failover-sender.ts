import type { Logger } from '../shared/log.ts';
import { maskPhone } from '../shared/phone.ts';
import type { CircuitState } from './circuit-breaker.ts';
import { destinationAllowed } from './destination-policy.ts';
import { SmsDeliveryError, SmsDestinationError, type SmsReceipt, type SmsSender } from './port.ts';

/** One provider of the list, with its own circuit breaker around its HTTP sender. */
export interface RoutedGateway {
  name: string;
  countries: readonly string[];
  notSentStatus: readonly number[];
  sender: SmsSender;
  state(): CircuitState;
}

/**
 * The providers a login already sent a code through that did not report it delivered, least
 * recently used first: a new code of that login tries the others first.
 */
export type UsedGateways = (flowUid: string) => Promise<string[]>;

/**
 * Whether the fault proves the provider sent nothing, so the next one may be tried without risking
 * a second SMS: it was never reached (refused connection, unresolved name, a timeout while
 * connecting, an open circuit), it asked to slow down (429), or it answered a 5xx it documents as
 * "not sent". A timeout after the request went out, or any other answer, may have sent it.
 */
function provesNothingSent(err: SmsDeliveryError, gateway: Pick<RoutedGateway, 'notSentStatus'>): boolean {
  if (err instanceof SmsDestinationError || err.mayHaveSent) return false;
  return err.status === undefined || err.status === 429 || gateway.notSentStatus.includes(err.status);
}

function asDeliveryError(err: unknown): SmsDeliveryError {
  return err instanceof SmsDeliveryError ? err : new SmsDeliveryError(err instanceof Error ? err.message : String(err), undefined, { cause: err, mayHaveSent: true });
}

/** Unused providers in their configured order, then the used ones, least recently used first. */
function ordered(candidates: readonly RoutedGateway[], used: readonly string[]): RoutedGateway[] {
  const rank = (g: RoutedGateway) => used.indexOf(g.name);
  return [...candidates.filter((g) => rank(g) < 0), ...candidates.filter((g) => rank(g) >= 0).sort((a, b) => rank(a) - rank(b))];
}

/**
 * Sends through the first provider that serves the number's country and takes the message; on a
 * fault that proves nothing was sent, the next is tried. A provider that may have sent it (a timeout
 * after the request) ends the send: trying another could deliver two codes.
 */
export function withFailover(gateways: readonly RoutedGateway[], log: Logger, usedGateways?: UsedGateways): SmsSender & { states(): { name: string; circuit: CircuitState }[] } {
  return {
    states: () => gateways.map((g) => ({ name: g.name, circuit: g.state() })),

    async send(message): Promise<SmsReceipt> {
      const serving = gateways.filter((g) => destinationAllowed(message.to, g.countries));
      if (serving.length === 0) throw new SmsDestinationError('no gateway in sms.gateways serves this country');
      // A failing lookup only loses the preference; the send goes ahead in the configured order.
      const used = message.flowUid && usedGateways && serving.length > 1
        ? await usedGateways(message.flowUid).catch((err: unknown) => { log.warn({ err }, 'could not read which gateways this login used'); return []; })
        : [];
      const order = ordered(serving, used);
      const faults: string[] = [];
      for (const [i, gateway] of order.entries()) {
        try {
          return { ...(await gateway.sender.send(message)), gateway: gateway.name };
        } catch (thrown) {
          const err = asDeliveryError(thrown);
          faults.push(`${gateway.name}: ${err.message}`);
          const next = order[i + 1];
          if (next && provesNothingSent(err, gateway)) {
            log.warn({ gateway: gateway.name, next: next.name, status: err.status, to: maskPhone(message.to), reason: err.message }, 'sms gateway did not take the message; trying the next');
            continue;
          }
          if (err instanceof SmsDestinationError) throw err;
          // The providers are named only when more than one was tried (the log line names the last).
          const reason = faults.length > 1 ? faults.join('; ') : err.message;
          throw new SmsDeliveryError(reason, err.status, { cause: err, mayHaveSent: err.mayHaveSent, gateway: gateway.name });
        }
      }
      throw new SmsDeliveryError('no gateway to send through');
    },
  };
}
