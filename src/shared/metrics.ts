/**
 * The metrics Keystep keeps, in one list: the Prometheus adapter creates exactly these, and the
 * dashboard and alert rules in `deploy/` may use only these (a test checks both). Adding one is an
 * entry here and one line where it happens (`metrics.count(...)`).
 *
 * No label may carry a username, a number, an address or any other value a user chooses: labels
 * are factor ids, outcomes, client ids (the operator registers them), ISO country codes and the
 * like, so every series count stays bounded.
 */
export const metricDefinitions = {
  keystep_logins_started_total: {
    kind: 'counter', labels: ['client'],
    help: 'Logins the provider started (one per interaction that asks for a sign-in), by client.',
  },
  keystep_logins_finished_total: {
    kind: 'counter', labels: ['client', 'result'],
    help: 'Logins that ended, by client and result: success, failed (a factor ended it), cancelled (the user did).',
  },
  keystep_step_results_total: {
    kind: 'counter', labels: ['factor', 'outcome'],
    help: 'Forms a factor judged, by factor and outcome: passed, retry (the same page again), failed.',
  },
  keystep_step_duration_seconds: {
    kind: 'histogram', labels: ['factor', 'outcome'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    help: 'Time a factor took to judge a form (password hashing and SMS sending included).',
  },
  keystep_password_hash_seconds: {
    kind: 'histogram', labels: ['operation'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    help: 'Time of one password hash or verification (operation: hash, verify, dummy), the wait for a free hashing slot included.',
  },
  keystep_password_hash_queue_depth: {
    kind: 'gauge', labels: [],
    help: 'Password hashes waiting for a free hashing slot.',
  },
  keystep_sms_sends_total: {
    kind: 'counter', labels: ['provider', 'purpose', 'status', 'country'],
    help: 'SMS handed to the gateway, by provider, purpose (otp, notice, test), status (sent, uncertain, failed, unreached) and ISO country of the destination.',
  },
  keystep_sms_gateway_duration_seconds: {
    kind: 'histogram', labels: ['provider', 'status'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    help: 'Time the gateway took to answer one SMS, by provider and status.',
  },
  keystep_sms_circuit_state: {
    kind: 'gauge', labels: ['provider'],
    help: 'The gateway circuit breaker: 0 closed, 1 half-open (one trial under way), 2 open (failing fast).',
  },
  keystep_sms_budget_refusals_total: {
    kind: 'counter', labels: ['budget'],
    help: 'SMS refused before the gateway, by budget: login, account, number, prefix, address, country, hour, day, backoff, or paused (the pumping breaker).',
  },
  keystep_sms_codes_verified_total: {
    kind: 'counter', labels: ['country'],
    help: 'SMS codes entered correctly, by ISO country of the number they were sent to.',
  },
  keystep_sms_conversion_ratio: {
    kind: 'gauge', labels: ['country'],
    help: 'Of the SMS codes this instance sent in the last hour, the share entered correctly, by ISO country (countries with a send in that hour). Low: pumping, or a gateway that does not deliver there.',
  },
  keystep_locks_total: {
    kind: 'counter', labels: ['lock', 'event'],
    help: 'Locks: lock is code (wrong codes), password (wrong passwords) or account (one factor change at a time); event is locked (this try reached the limit and set the lock), refused (a try met the lock), throttled (a password try came too soon), taken or busy (the account lock was free or held).',
  },
  keystep_db_pool_connections: {
    kind: 'gauge', labels: ['state'],
    help: 'Database pool connections by state: total, idle, waiting (requests queued for one).',
  },
} as const;

type Definitions = typeof metricDefinitions;
export type MetricName = keyof Definitions;
type OfKind<K extends string> = { [N in MetricName]: Definitions[N]['kind'] extends K ? N : never }[MetricName];
export type CounterName = OfKind<'counter'>;
export type HistogramName = OfKind<'histogram'>;
export type GaugeName = OfKind<'gauge'>;
export type Labels<N extends MetricName> = { [L in Definitions[N]['labels'][number]]: string };
export interface Sample<N extends GaugeName> { labels: Labels<N>; value: number }

/** Where the parts of Keystep record what happens. The composition root wires it to Prometheus. */
export interface Metrics {
  count<N extends CounterName>(name: N, labels: Labels<N>, by?: number): void;
  observe<N extends HistogramName>(name: N, labels: Labels<N>, value: number): void;
  /** A gauge read when it is scraped: `read` answers its series. */
  gauge<N extends GaugeName>(name: N, read: () => Sample<N>[]): void;
}

/** For parts and tests that do not care. */
export const noMetrics: Metrics = { count() {}, observe() {}, gauge() {} };

/** Seconds since `start` (a `performance.now()`), for the duration histograms. */
export const secondsSince = (start: number): number => (performance.now() - start) / 1000;
