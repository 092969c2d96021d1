import type { Config } from './config/schema.ts';
import type { Clock } from './shared/clock.ts';
import type { Logger } from './shared/log.ts';
import { noMetrics, type Metrics } from './shared/metrics.ts';
import { withCircuitBreaker, type CircuitState } from './sms/circuit-breaker.ts';
import { createConsoleSender, type InboxMessage } from './sms/console-sender.ts';
import { withDestinationPolicy } from './sms/destination-policy.ts';
import { withSendMetrics } from './sms/metered-sender.ts';
import { GatewayConfigError, resolveGateway, type GatewaySettings } from './sms/gateway-settings.ts';
import { createHttpSender } from './sms/http-sender.ts';
import type { SmsSender } from './sms/port.ts';
import { compileGateway } from './sms/request-template.ts';
import { withSendLog, type SendRecord } from './sms/send-log.ts';

export interface SmsWiring {
  sender: SmsSender;
  /** The development inbox, when the console sender is in use. */
  inbox?: () => readonly InboxMessage[];
  circuit?: () => CircuitState;
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

/**
 * The SMS sender as configured: the destination check first (so nothing leaves for a refused
 * number), then the send log, then the circuit breaker around the HTTP gateway. `base` replaces
 * the configured sender (tests pass a recording fake). Throws GatewayConfigError on a bad template.
 */
export function wireSmsSender(config: Config, log: Logger, clock: Clock, record: (r: SendRecord) => Promise<void>, base?: SmsSender, metered: { metrics: Metrics; provider: string } = { metrics: noMetrics, provider: 'none' }): SmsWiring {
  let inner: SmsSender;
  let inbox: SmsWiring['inbox'];
  let circuit: SmsWiring['circuit'];
  if (base) {
    inner = base;
  } else if (config.sms.sender === 'http') {
    const breaker = withCircuitBreaker(
      createHttpSender(compileGateway(resolveGateway(config.sms.gateway)), log),
      { failures: config.sms.circuitFailures, cooldownSeconds: config.sms.circuitCooldownSeconds },
      clock,
      log,
    );
    inner = breaker;
    circuit = breaker.state;
  } else {
    const dev = createConsoleSender(log);
    inner = dev;
    inbox = dev.inbox;
  }
  const counted = withSendMetrics(inner, metered.metrics, metered.provider);
  return { sender: withDestinationPolicy(withSendLog(counted, record, clock, log), config.sms.allowedCountries), inbox, circuit };
}
