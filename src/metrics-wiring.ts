import { LRUCache } from 'lru-cache';
import type { Config } from './config/schema.ts';
import type { Db } from './db/connection.ts';
import { poolUse } from './db/connection.ts';
import type { PasswordFailureStore } from './login/factors/password/ports.ts';
import type { PasswordHasher } from './login/passwords.ts';
import type { AccountLock, AccountStore, AuditLog } from './login/ports.ts';
import type { OtpStore, SmsLog } from './login/sms-codes/ports.ts';
import { conversionTally } from './observability/conversion.ts';
import { prometheusMetrics } from './observability/prometheus.ts';
import type { Clock } from './shared/clock.ts';
import { noMetrics, secondsSince, type Metrics } from './shared/metrics.ts';
import { countryOf } from './shared/phone.ts';
import type { CircuitState } from './sms/circuit-breaker.ts';

export interface MetricsWiring {
  metrics: Metrics;
  /** The scrape, when metrics are served (`metrics.port` or `metrics.bearerToken`). */
  scrape?: () => Promise<{ contentType: string; body: string }>;
}

/** The ISO country of a number for a label: `ZZ` when it belongs to none (never the number). */

/** The provider label of SMS metrics: the gateway preset, else the sender. */
export const smsProvider = (config: Config): string => (config.sms.sender === 'http' ? config.sms.gateway.preset ?? 'http' : config.sms.sender);

/**
 * Prometheus when the metrics are served, nothing otherwise (no registry, no default-metric
 * timers). The conversion gauge is fed by the counters of codes sent and entered.
 */
export function wireMetrics(config: Config, clock: Clock, db: Db): MetricsWiring {
  if (config.metrics.port === undefined && config.metrics.bearerToken === undefined) return { metrics: noMetrics };
  const prometheus = prometheusMetrics();
  const conversion = conversionTally(clock);
  const metrics: Metrics = {
    ...prometheus,
    count(name, labels, by) {
      prometheus.count(name, labels, by);
      if (name === 'keystep_sms_sends_total') {
        const send = labels as { purpose: string; status: string; country: string };
        if (send.purpose === 'otp' && (send.status === 'sent' || send.status === 'uncertain')) conversion.sent(send.country);
      } else if (name === 'keystep_sms_codes_verified_total') {
        conversion.verified((labels as { country: string }).country);
      }
    },
  };
  metrics.gauge('keystep_sms_conversion_ratio', () => conversion.ratios().map(({ country, ratio }) => ({ labels: { country }, value: ratio })));
  const pool = poolUse(db);
  if (pool) {
    metrics.gauge('keystep_db_pool_connections', () => {
      const use = pool();
      return [{ labels: { state: 'total' }, value: use.total }, { labels: { state: 'idle' }, value: use.idle }, { labels: { state: 'waiting' }, value: use.waiting }];
    });
  }
  return { metrics, scrape: prometheus.scrape };
}

const circuitValue: Record<CircuitState['status'], number> = { closed: 0, 'half-open': 1, open: 2 };

/** The circuit breaker's state as a gauge, when the HTTP gateway is in use. */
export function meterCircuits(metrics: Metrics, circuits: (() => { name: string; circuit: CircuitState }[]) | undefined): void {
  if (circuits) metrics.gauge('keystep_sms_circuit_state', () => circuits().map(({ name, circuit }) => ({ labels: { provider: name }, value: circuitValue[circuit.status] })));
}

/** The hasher, timed; its queue read at each scrape when it tells it (the argon2 hasher does). */
export function meteredHasher(hasher: PasswordHasher, metrics: Metrics): PasswordHasher {
  if (metrics === noMetrics) return hasher;
  if (hasher.queueDepth) metrics.gauge('keystep_password_hash_queue_depth', () => [{ labels: {}, value: hasher.queueDepth!() }]);
  const timed = <T>(operation: string, work: () => Promise<T>) => async () => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      metrics.observe('keystep_password_hash_seconds', { operation }, secondsSince(start));
    }
  };
  return {
    ...hasher,
    hash: (password) => timed('hash', () => hasher.hash(password))(),
    verify: (passwordHash, password) => timed('verify', () => hasher.verify(passwordHash, password))(),
    verifyDummy: (password) => timed('dummy', () => hasher.verifyDummy(password))(),
  };
}

interface MeteredStores {
  audit: AuditLog;
  accounts: AccountStore;
  passwordFailures: PasswordFailureStore;
  accountLock: AccountLock;
  smsLog: SmsLog;
  otp: OtpStore;
}

/**
 * The stores whose answers are the events the metrics count: the locks (code, password, account),
 * the send budgets, and codes entered (by the country of the number the code went to).
 */
export function meteredStores<S extends MeteredStores>(stores: S, metrics: Metrics, clock: Clock): S {
  if (metrics === noMetrics) return stores;
  const lock = (name: string, event: string) => metrics.count('keystep_locks_total', { lock: name, event });
  // A login's code is checked (countAttempt) just before it is consumed; the country waits between.
  const checked = new LRUCache<string, string>({ max: 10_000, ttl: 10 * 60_000 });
  const { accounts, passwordFailures, accountLock, smsLog, otp, audit } = stores;
  // A try reaches the limit before its code or password is compared; only a wrong one sets the
  // lock, and the factors record that in the audit trail.
  const locking: Record<string, string> = { 'account.locked': 'code', 'login.locked': 'password' };
  return {
    ...stores,
    audit: {
      ...audit,
      async record(event) {
        await audit.record(event);
        const name = locking[event.event];
        if (name) lock(name, 'locked');
      },
    },
    accounts: {
      ...accounts,
      async reserveOtpAttempt(id, now, lockAfter, lockUntil) {
        const attempt = await accounts.reserveOtpAttempt(id, now, lockAfter, lockUntil);
        if (!attempt.taken) lock('code', 'refused');
        return attempt;
      },
    },
    passwordFailures: {
      ...passwordFailures,
      async reserve(key, now, policy) {
        const attempt = await passwordFailures.reserve(key, now, policy);
        if (!attempt.taken) lock('password', attempt.record.lockedUntil && attempt.record.lockedUntil > clock.now() ? 'refused' : 'throttled');
        return attempt;
      },
    },
    accountLock: async (accountId, work) => {
      const result = await accountLock(accountId, work);
      lock('account', result.ran ? 'taken' : 'busy');
      return result;
    },
    smsLog: {
      ...smsLog,
      async reserve(reservation) {
        const result = await smsLog.reserve(reservation);
        if ('refused' in result) metrics.count('keystep_sms_budget_refusals_total', { budget: result.refused });
        return result;
      },
    },
    otp: {
      ...otp,
      async countAttempt(flowUid, maxAttempts) {
        const challenge = await otp.countAttempt(flowUid, maxAttempts);
        if (challenge) checked.set(flowUid, countryOf(challenge.destination));
        return challenge;
      },
      async consume(flowUid) {
        const consumed = await otp.consume(flowUid);
        const country = checked.get(flowUid);
        checked.delete(flowUid);
        if (consumed && country) metrics.count('keystep_sms_codes_verified_total', { country });
        return consumed;
      },
    },
  };
}

/** Logins started: the provider says when it sends a browser to sign in. */
export function meterLoginsStarted(provider: { on(event: 'interaction.started', listener: (ctx: { oidc?: { client?: { clientId: string } } }, prompt: { name: string }) => void): unknown }, metrics: Metrics): void {
  if (metrics === noMetrics) return;
  provider.on('interaction.started', (ctx, prompt) => {
    if (prompt.name === 'login') metrics.count('keystep_logins_started_total', { client: ctx.oidc?.client?.clientId ?? 'unknown' });
  });
}
