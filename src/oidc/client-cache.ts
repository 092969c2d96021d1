import { LRUCache } from 'lru-cache';
import type { Clock } from '../shared/clock.ts';
import type { ClientSource } from './adapter.ts';

type Metadata = Record<string, unknown>;

export interface ClientCacheOptions {
  /** How long an answer is kept (5 s). */
  ttlSeconds?: number;
  /** How many clients are kept at most (1,000); the least recently used goes first. */
  max?: number;
  /** Tests move time by hand; otherwise the monotonic `performance.now()`. */
  clock?: Clock;
}

/**
 * Client metadata, kept a few seconds: a login reads it about eight times. The price is that
 * `keystep client add/remove` takes up to that long to reach a running server. Concurrent
 * lookups of one client share one load; a load that fails is not kept, so the next lookup tries
 * again. "No such client" is kept like any answer.
 */
export function clientMetadataCache(load: (clientId: string) => Promise<Metadata | undefined>, options: ClientCacheOptions = {}): ClientSource {
  const { ttlSeconds = 5, max = 1000, clock } = options;
  // The pending load itself is kept, so concurrent lookups share it: plain get and set, which cost
  // a fraction of lru-cache's fetch (an AbortController per call) on a path every login takes often.
  const cache = new LRUCache<string, Promise<Metadata | undefined>>({
    max,
    ttl: ttlSeconds * 1000,
    // The default keeps a clock reading for 1 ms behind a timer, which a test's clock would not see move.
    ttlResolution: 0,
    ...(clock ? { perf: { now: () => clock.now().getTime() } } : {}),
  });
  return {
    findMetadata(clientId) {
      const hit = cache.get(clientId);
      if (hit) return hit;
      const pending = load(clientId);
      cache.set(clientId, pending);
      pending.catch(() => {
        if (cache.peek(clientId) === pending) cache.delete(clientId);
      });
      return pending;
    },
  };
}
