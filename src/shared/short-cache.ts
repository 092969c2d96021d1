import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.ts';

export interface ShortCacheOptions {
  /** How long an answer is kept (5 s). */
  ttlSeconds?: number;
  /** How many answers are kept at most (1,000); the least recently used goes first. */
  max?: number;
  /** The app's clock (tests move it by hand). */
  clock: Clock;
}

/**
 * Answers of `load` kept a few seconds, for what a login reads several times and an operator
 * changes rarely (clients, upstream providers): a change takes up to that long to reach a running
 * server. Concurrent lookups of one key share one load; a load that fails is not kept, so the next
 * lookup tries again. "Not found" (undefined) is kept like any answer.
 */
export function shortCache<T>(load: (key: string) => Promise<T>, options: ShortCacheOptions): (key: string) => Promise<T> {
  const { ttlSeconds = 5, max = 1000, clock } = options;
  // The pending load itself is kept, so concurrent lookups share it: plain get and set, which cost
  // a fraction of lru-cache's fetch (an AbortController per call) on a path every login takes often.
  const cache = new LRUCache<string, { pending: Promise<T> }>({
    max,
    ttl: ttlSeconds * 1000,
    // The default keeps a clock reading for 1 ms behind a timer, which a test's clock would not see move.
    ttlResolution: 0,
    perf: { now: () => clock.now().getTime() },
  });
  return (key) => {
    const hit = cache.get(key);
    if (hit) return hit.pending;
    const entry = { pending: load(key) };
    cache.set(key, entry);
    entry.pending.catch(() => {
      if (cache.peek(key) === entry) cache.delete(key);
    });
    return entry.pending;
  };
}
