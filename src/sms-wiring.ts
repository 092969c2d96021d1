import type { Config } from './config/schema.ts';
import type { Clock } from './shared/clock.ts';
import type { Logger } from './shared/log.ts';
import { noMetrics, type Metrics } from './shared/metrics.ts';
import { withCircuitBreaker, type CircuitState } from './sms/circuit-breaker.ts';
import { createConsoleSender, type InboxMessage } from './sms/console-sender.ts';
import { withDestinationPolicy } from './sms/destination-policy.ts';
import { withSendMetrics } from './sms/metered-sender.ts';
import { withFailover, type UsedGateways } from './sms/failover-sender.ts';
import { gatewayList, gatewayListProblems, statusCallback, type NamedGatewaySettings } from './sms/gateway-list.ts';
import { GatewayConfigError, resolveGateway, type GatewaySettings } from './sms/gateway-settings.ts';
import { createHttpSender } from './sms/http-sender.ts';
import type { ReceiptStore, SmsSender } from './sms/port.ts';
import { receiptIntake, type ReceiptIntake } from './sms/receipts.ts';
import { compileGateway } from './sms/request-template.ts';
import { withSendLog, type SendRecord } from './sms/send-log.ts';

export interface SmsWiring {
  sender: SmsSender;
  /** The development inbox, when the console sender is in use. */
  inbox?: () => readonly InboxMessage[];
  /** The first gateway's circuit (what `/readyz` showed before there were several). */
  circuit?: () => CircuitState;
  /** Every gateway's circuit, in the configured order. */
  gateways?: () => { name: string; circuit: CircuitState }[];
  /** Takes the providers' delivery receipts, when a gateway has `receipts` and a store is given. */
  receipts?: ReceiptIntake;
}

/** What the send log gives the senders: which providers a login used, and where receipts go. */
export interface SmsDeliveryStores {
  usedGateways: UsedGateways;
  receipts: ReceiptStore;
}

/**
 * What is wrong with the gateway's request template, for the list of configuration problems at
 * start-up (`loadConfig`'s `smsGateway` check), so that it comes with the others at once.
 */
export function gatewayProblems(gateway: GatewaySettings): string[] {
  try {
    compileGateway(resolveGateway(gateway));
    return [];
  } catch (err) {
    if (err instanceof GatewayConfigError) return err.problems;
    throw err;
  }
}

/** The same for `sms.gateways` (`loadConfig`'s `smsGateways` check). */
export function gatewaysProblems(gateways: readonly NamedGatewaySettings[]): string[] {
  return gatewayListProblems(gateways, 'https://issuer.invalid');
}

/** The providers as configured (`sms.gateways`, or `sms.gateway` as a list of one). */
export function configuredGateways(config: Config): NamedGatewaySettings[] {
  return gatewayList(config.sms.gateway, config.sms.gateways);
}

/**
 * The SMS sender as configured: the destination check first (so nothing leaves for a refused
 * number), then the send log, then the providers in order, each behind its own circuit breaker.
 * `base` replaces the configured sender (tests pass a recording fake). Throws GatewayConfigError on a
 * bad template.
 */
export function wireSmsSender(config: Config, log: Logger, clock: Clock, record: (r: SendRecord) => Promise<void>, base?: SmsSender, stores?: SmsDeliveryStores, metered: { metrics: Metrics; provider: string } = { metrics: noMetrics, provider: 'none' }): SmsWiring {
  let inner: SmsSender;
  const wiring: Omit<SmsWiring, 'sender'> = {};
  if (base) {
    inner = base;
  } else if (config.sms.sender === 'http') {
    const list = configuredGateways(config);
    // A single `sms.gateway` keeps its own problems' names (compiling it below throws them).
    const problems = config.sms.gateways.length ? gatewayListProblems(list, config.issuer) : [];
    if (problems.length) throw new GatewayConfigError(problems);
    const routed = list.map((gateway) => {
      const breaker = withCircuitBreaker(
        createHttpSender(compileGateway(resolveGateway(gateway, statusCallback(gateway, config.issuer))), log),
        { failures: gateway.circuitFailures ?? config.sms.circuitFailures, cooldownSeconds: gateway.circuitCooldownSeconds ?? config.sms.circuitCooldownSeconds },
        clock,
        log.child({ gateway: gateway.name }),
      );
      const sender = config.sms.gateways.length ? withSendMetrics(breaker, metered.metrics, gateway.name) : breaker;
      return { name: gateway.name, countries: gateway.countries, notSentStatus: gateway.notSentStatus, sender, state: breaker.state };
    });
    const failover = withFailover(routed, log, stores?.usedGateways);
    inner = failover;
    wiring.circuit = routed[0]!.state;
    wiring.gateways = failover.states;
    const receiving = list.flatMap((g) => (g.receipts ? [{ name: g.name, receipts: g.receipts, authToken: g.authToken }] : []));
    if (stores && receiving.length) wiring.receipts = receiptIntake(receiving, stores.receipts, clock, log);
  } else {
    const dev = createConsoleSender(log);
    inner = dev;
    wiring.inbox = dev.inbox;
  }
  // Several providers are counted under their own names, one under what it is (`twilio`, `http`).
  const counted = config.sms.gateways.length && !base ? inner : withSendMetrics(inner, metered.metrics, metered.provider);
  return { sender: withDestinationPolicy(withSendLog(counted, record, clock, log), config.sms.allowedCountries), ...wiring };
}
