import type { Clock } from '../shared/clock.ts';

const MINUTE = 60_000;

/**
 * Codes sent and codes entered, per country, in one-minute buckets over the last `windowMinutes`:
 * the conversion gauge. Kept in memory by each instance (the counters of sends and verified codes
 * give Prometheus the same ratio across instances). Countries are ISO codes, a bounded set.
 */
export function conversionTally(clock: Clock, windowMinutes = 60) {
  const buckets = new Map<number, Map<string, { sent: number; verified: number }>>();
  const minute = () => Math.floor(clock.now().getTime() / MINUTE);

  function add(country: string, field: 'sent' | 'verified') {
    const now = minute();
    for (const key of buckets.keys()) if (key <= now - windowMinutes) buckets.delete(key);
    const bucket = buckets.get(now) ?? new Map<string, { sent: number; verified: number }>();
    buckets.set(now, bucket);
    const counts = bucket.get(country) ?? { sent: 0, verified: 0 };
    counts[field] += 1;
    bucket.set(country, counts);
  }

  return {
    sent: (country: string) => add(country, 'sent'),
    verified: (country: string) => add(country, 'verified'),
    /** Verified over sent per country with a send in the window (at most 1: a code can be entered after its hour). */
    ratios(): { country: string; ratio: number }[] {
      const since = minute() - windowMinutes;
      const totals = new Map<string, { sent: number; verified: number }>();
      for (const [key, bucket] of buckets) {
        if (key <= since) continue;
        for (const [country, counts] of bucket) {
          const total = totals.get(country) ?? { sent: 0, verified: 0 };
          total.sent += counts.sent;
          total.verified += counts.verified;
          totals.set(country, total);
        }
      }
      return [...totals].filter(([, t]) => t.sent > 0).map(([country, t]) => ({ country, ratio: Math.min(1, t.verified / t.sent) }));
    },
  };
}
