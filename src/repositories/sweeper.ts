import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/log.ts';
import { sweepTables } from '../db/sweep.ts';

// 1,000 rows a statement, at most 500 statements per table a run (one after another, on one
// connection): up to half a million rows per table every sweepIntervalSeconds.
const SWEEP_BOUNDS = { batchSize: 1000, maxBatches: 500 };

interface Sweepable {
  payloads: { sweepExpired(batchSize: number): Promise<number> };
  flows: { sweepExpired(batchSize: number): Promise<number> };
  passwordFailures: { sweep(before: Date, batchSize: number): Promise<number> };
  smsLog: { settleAbandoned(before: Date, batchSize: number): Promise<number>; prune(before: Date, batchSize: number): Promise<number> };
  audit: { prune(before: Date, batchSize: number): Promise<number> };
}

/** How long audit events and the SMS send log are kept, in seconds (config/retention.ts). */
export interface Retention {
  authEvents: number;
  smsMessages: number;
}

/** The periodic clean-up of expired rows; a run that outlasts the interval is not joined by a second one. */
export function expiredRowSweeper(stores: Sweepable, clock: Clock, log: Logger, retention: Retention): () => Promise<void> {
  let sweeping = false;
  return async function sweep() {
    if (sweeping) return;
    sweeping = true;
    try {
      const now = clock.now().getTime();
      const { removed, behind } = await sweepTables({
        oidc_payloads: (n) => stores.payloads.sweepExpired(n),
        login_flows: (n) => stores.flows.sweepExpired(n),
        password_failures: (n) => stores.passwordFailures.sweep(new Date(now - 86_400_000), n),
        // Not deleted but settled: a reservation no send finished within the longest a code lives.
        sms_messages: (n) => stores.smsLog.settleAbandoned(new Date(now - 600_000), n),
        // After the settling above, so no reservation is pruned before it counts as uncertain.
        'sms_messages (retention)': (n) => stores.smsLog.prune(new Date(now - retention.smsMessages * 1000), n),
        'auth_events (retention)': (n) => stores.audit.prune(new Date(now - retention.authEvents * 1000), n),
      }, SWEEP_BOUNDS);
      if (removed) log.debug({ removed }, 'swept expired rows');
      if (behind.length) log.warn({ tables: behind, removed }, 'expired rows left for the next sweep');
    } catch (err) {
      log.warn({ err }, 'sweep of expired rows failed');
    } finally {
      sweeping = false;
    }
  };
}
